"""The HTTP side of ingestctl: calls to the API with the stored tokens,
refreshed once on a 401, and the API's problem+json turned into one clear
error. Uploads go straight to the storage's presigned URL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import httpx

from ingestctl import config
from ingestctl.config import Credentials


class CliError(Exception):
    """A failure to show the user; `exit_code` is what the process returns."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def describe(response: httpx.Response) -> str:
    """The API's own words for a failed response (problem+json), or the status."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}: {response.text[:200]}"
    detail = body.get("detail") or body.get("title") or response.reason_phrase
    extra = ""
    if response.headers.get("Retry-After"):
        extra = f" (retry after {response.headers['Retry-After']} s)"
    request_id = body.get("request_id")
    trace = f" [request id {request_id}]" if request_id else ""
    return f"{detail}{extra}{trace}"


class ApiClient:
    def __init__(self, credentials: Credentials, *, timeout: float = 30.0) -> None:
        self.credentials = credentials
        self.http = httpx.Client(base_url=credentials.url, timeout=timeout)

    @classmethod
    def login(cls, url: str, username: str, password: str) -> ApiClient:
        try:
            response = httpx.post(
                f"{url.rstrip('/')}/v1/auth/token",
                data={"username": username, "password": password},
                timeout=30,
            )
        except httpx.TransportError as error:
            raise CliError(f"cannot reach {url}: {error}", exit_code=3) from error
        if response.status_code != 200:
            raise CliError(f"login failed: {describe(response)}")
        tokens = response.json()
        return cls(
            Credentials(
                url=url.rstrip("/"),
                username=username,
                access_token=tokens["access_token"],
                refresh_token=tokens["refresh_token"],
            )
        )

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the API; refresh the tokens once on 401; raise CliError on failure."""
        response = self._checked(method, path, **kwargs)
        return response.json() if response.content else None

    def watch_job(
        self, job_id: str, *, seen: str | None, wait: int
    ) -> tuple[Any | None, str | None]:
        """(the job, its ETag) once it differs from the version tagged `seen`,
        the server holding the request up to `wait` seconds (a long poll);
        (None, seen) when nothing changed meanwhile. With no `seen`, at once."""
        headers = {"If-None-Match": seen} if seen else {}
        response = self._checked(
            "GET",
            f"/v1/jobs/{job_id}",
            params={"wait": wait} if seen else {},
            headers=headers,
            timeout=self.http.timeout.read + wait if self.http.timeout.read else None,
        )
        if response.status_code == 304:
            return None, seen
        return response.json(), response.headers.get("etag")

    def _checked(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._send(method, path, **kwargs)
        if response.status_code == 401 and self._refresh():
            response = self._send(method, path, **kwargs)
        if response.status_code >= 400:
            raise CliError(describe(response), exit_code=4 if response.status_code == 401 else 1)
        return response

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.credentials.access_token}"}
        headers.update(kwargs.pop("headers", {}))
        try:
            return self.http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as error:
            raise CliError(f"cannot reach {self.credentials.url}: {error}", exit_code=3) from error

    def _refresh(self) -> bool:
        if not self.credentials.refresh_token:  # a key or a token from the environment
            return False
        response = self.http.post(
            "/v1/auth/refresh", json={"refresh_token": self.credentials.refresh_token}
        )
        if response.status_code != 200:
            return False
        tokens = response.json()
        self.credentials.access_token = tokens["access_token"]
        self.credentials.refresh_token = tokens["refresh_token"]
        config.save(self.credentials)
        return True


class ProgressReader:
    """A file wrapper that reports how many bytes have been read. It passes
    fileno/seek/tell through, so the HTTP client knows the length: storage
    refuses a presigned POST sent with chunked encoding."""

    def __init__(self, handle: BinaryIO, on_progress: Callable[[int], None]) -> None:
        self.handle = handle
        self.on_progress = on_progress
        self.done = 0

    def fileno(self) -> int:
        return self.handle.fileno()

    def seek(self, offset: int, whence: int = 0) -> int:
        position = self.handle.seek(offset, whence)
        self.done = position
        return position

    def tell(self) -> int:
        return self.handle.tell()

    def read(self, size: int = -1) -> bytes:
        chunk = self.handle.read(size)
        self.done += len(chunk)
        self.on_progress(self.done)
        return chunk


def upload_file(upload: dict[str, Any], path: Path, on_progress: Callable[[int], None]) -> None:
    """POST the file to the presigned URL, as the storage's policy demands."""
    fields = upload["fields"]
    with path.open("rb") as handle:
        reader = ProgressReader(handle, on_progress)
        try:
            response = httpx.post(
                upload["url"],
                data=fields,
                files={"file": (path.name, reader, fields.get("Content-Type"))},  # type: ignore[dict-item]
                timeout=httpx.Timeout(30.0, write=None),
            )
        except httpx.TransportError as error:
            raise CliError(f"upload to storage failed: {error}", exit_code=3) from error
    if response.status_code not in {200, 201, 204}:
        reason = storage_code(response.text) or response.text
        raise CliError(f"the storage refused the upload: {reason[:300]}")


# What storage's refusals say, shortened to their error code.
STORAGE_CODES = (
    "EntityTooLarge", "EntityTooSmall", "AccessDenied", "SignatureDoesNotMatch",
    "XAmzContentChecksumMismatch", "NoSuchUpload",
)  # fmt: skip


def storage_code(answer: str) -> str | None:
    """The S3 error code a refusal names, if it is one of the known ones."""
    return next((code for code in STORAGE_CODES if code in answer), None)

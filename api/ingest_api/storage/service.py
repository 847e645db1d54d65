"""The bucket behind the service: presign uploads that storage itself
enforces, verify what arrived, presign downloads, read and write objects.

Presigned POST, not PUT: only a POST policy lets the storage refuse a body of
another size (`content-length-range`) or content type, so a client cannot
slip in more than it declared. Signing is local (no network), and the POST
policy is signed by `post_policy` (boto3's signer costs more than the rest
of job creation); every call that reaches the storage runs in a thread,
since boto3 blocks.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ingest_api.core.config import Settings
from ingest_api.core.errors import DependencyUnavailable
from ingest_api.storage.post_policy import SigningCredentials, post_policy_fields

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")


@dataclass(frozen=True)
class PresignedUpload:
    """What a client needs to upload: POST `fields` and the file to `url`."""

    url: str
    fields: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True)
class StoredObject:
    size: int
    content_type: str | None
    metadata: dict[str, str]
    # What identifies these exact bytes: the worker reads the object only
    # while it still has this ETag (and this version, where the bucket keeps
    # versions), so a replacement uploaded after verification is never read.
    etag: str | None = None
    version_id: str | None = None


def s3_client(settings: Settings, *, endpoint: str | None = None) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=endpoint or settings.s3_endpoint,
        region_name=settings.s3_region,
        aws_access_key_id=settings.s3_access_key,
        aws_secret_access_key=settings.s3_secret_key,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=2,
            read_timeout=15,
            # One quick retry; past it the caller answers 503 with Retry-After
            # rather than holding the request for boto3's long default backoff.
            retries={"max_attempts": 2, "mode": "standard"},
        ),
    )


class ObjectStore:
    """One bucket. `public_endpoint` is where clients reach the storage, when it
    differs from where the service does (in-cluster name vs public address)."""

    def __init__(self, settings: Settings, *, public_endpoint: str | None = None) -> None:
        self.bucket = settings.s3_bucket
        self.client = s3_client(settings)
        self.signer = (
            s3_client(settings, endpoint=public_endpoint) if public_endpoint else self.client
        )
        # Path-style, like the clients above: the bucket is the URL's path.
        self.upload_url = f"{(public_endpoint or settings.s3_endpoint).rstrip('/')}/{self.bucket}"
        self.credentials = SigningCredentials(
            access_key=settings.s3_access_key,
            secret_key=settings.s3_secret_key,
            region=settings.s3_region,
        )

    def presign_upload(
        self,
        *,
        key: str,
        content_type: str,
        size: int,
        ttl_seconds: int,
        sha256: str | None = None,
        metadata: dict[str, str] | None = None,
        now: datetime | None = None,
    ) -> PresignedUpload:
        """A POST policy for exactly `size` bytes of `content_type` at `key`.
        With `sha256` (hex), storage that checks checksums refuses any other
        bytes (400 XAmzContentChecksumMismatch); the worker verifies it again
        for storage that does not."""
        fields = {"Content-Type": content_type}
        conditions: list[Any] = [
            {"Content-Type": content_type},
            ["content-length-range", size, size],
        ]
        if sha256:
            checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
            fields["x-amz-checksum-sha256"] = checksum
            conditions.append({"x-amz-checksum-sha256": checksum})
        for name, value in (metadata or {}).items():
            field = f"x-amz-meta-{name}"
            fields[field] = value
            conditions.append({field: value})
        issued = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        expires_at = issued + timedelta(seconds=ttl_seconds)
        signed = post_policy_fields(
            self.credentials,
            bucket=self.bucket,
            key=key,
            fields=fields,
            conditions=conditions,
            issued=issued,
            expires_at=expires_at,
        )
        return PresignedUpload(url=self.upload_url, fields=signed, expires_at=expires_at)

    def presign_download(self, *, key: str, ttl_seconds: int) -> str:
        return self.signer.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=ttl_seconds
        )

    async def head(self, *, key: str) -> StoredObject | None:
        """What is stored at `key`, or None when nothing is."""

        def head_object() -> StoredObject | None:
            try:
                answer = self.client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as error:
                if error_code(error) in {"404", "NoSuchKey", "NotFound"}:
                    return None
                raise
            return StoredObject(
                size=answer["ContentLength"],
                content_type=answer.get("ContentType"),
                metadata=dict(answer.get("Metadata", {})),
                etag=answer.get("ETag"),
                # "null" is how S3 names the one version of an unversioned object.
                version_id=answer.get("VersionId") if answer.get("VersionId") != "null" else None,
            )

        return await self.call(head_object)

    def open_object(self, *, key: str, etag: str | None = None, version: str | None = None) -> Any:
        """A streaming reader of the object (blocking: call it from a thread).
        With `etag`, storage refuses (412 PreconditionFailed) unless the object
        still has it; with `version`, that version is read."""
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if etag:
            request["IfMatch"] = etag
        if version:
            request["VersionId"] = version
        return self.client.get_object(**request)["Body"]

    async def ensure_bucket(self) -> None:
        def create() -> None:
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except ClientError:
                self.client.create_bucket(Bucket=self.bucket)

        await self.call(create)

    async def delete(self, keys: list[str]) -> int:
        """Delete these objects (at most 1,000: one request); how many storage
        confirmed. A key that does not exist counts as deleted: S3 says so."""
        if not keys:
            return 0
        answer = await self.call(
            lambda: self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": key} for key in keys], "Quiet": False},
            )
        )
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise DependencyUnavailable(
                f"storage kept {len(answer['Errors'])} objects ({first.get('Code')})",
                dependency="s3",
            )
        return len(answer.get("Deleted", []))

    async def set_lifecycle(self, configuration: dict[str, Any]) -> None:
        """Replace the bucket's lifecycle rules (PutBucketLifecycleConfiguration)."""
        await self.call(
            lambda: self.client.put_bucket_lifecycle_configuration(
                Bucket=self.bucket,
                LifecycleConfiguration=configuration,  # type: ignore[arg-type]
            )
        )

    async def ping(self) -> None:
        """Raise DependencyUnavailable unless the bucket answers."""
        await self.call(lambda: self.client.head_bucket(Bucket=self.bucket))

    async def call(self, function: Callable[[], T]) -> T:
        """`function` (a blocking storage call) in a thread; an outage or a
        storage error is DependencyUnavailable, a 4xx answer stays a ClientError."""
        try:
            return await anyio.to_thread.run_sync(function)
        except (BotoCoreError, ClientError) as error:
            if isinstance(error, ClientError) and _is_client_mistake(error):
                raise
            raise DependencyUnavailable(
                f"object storage is unavailable: {type(error).__name__}", dependency="s3"
            ) from error


def error_code(error: ClientError) -> str | None:
    """The S3 error code of an answer (`NoSuchKey`, `PreconditionFailed`, `404`...)."""
    return error.response.get("Error", {}).get("Code")


def http_status(error: ClientError) -> int:
    """The HTTP status of the storage's answer (500 when it gave none)."""
    status: int = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
    return status


def _is_client_mistake(error: ClientError) -> bool:
    """4xx answers other than throttling are ours to handle, not an outage."""
    status = http_status(error)
    return 400 <= status < 500 and status != 429

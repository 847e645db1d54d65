"""`ingestctl upload`: a file to its job, in one POST or in parts.

A file the API wants in parts is sent `concurrency` parts at a time, each
with its SHA-256 (storage refuses other bytes) from the file's own offset,
so memory holds `concurrency` parts at most. Where an upload stands is kept
in the config folder (`uploads/`, one file per local path): the next
`ingestctl upload` of the same file (same size and modification time)
continues the same job, sending only the parts storage does not hold with
the same SHA-256, whatever stopped the last one (Ctrl-C, a dropped network,
a killed process). No pass over the whole file precedes the upload: each
part is read once, hashed and sent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from ingestctl import config
from ingestctl.client import ApiClient, CliError, describe, storage_code, upload_file

Events = Callable[[dict[str, Any]], None]


@dataclass
class Resumable:
    """Where an upload in parts stands, kept between runs: the job, and the
    file as it was (a file changed since is uploaded anew)."""

    url: str
    job_id: str
    size: int
    modified_ns: int


def state_path(path: Path) -> Path:
    name = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]
    return config.config_path().parent / "uploads" / f"{name}.json"


def load_state(path: Path) -> Resumable | None:
    try:
        return Resumable(**json.loads(state_path(path).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def save_state(path: Path, state: Resumable) -> None:
    file = state_path(path)
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    file.write_text(json.dumps(asdict(state)))


def forget_state(path: Path) -> None:
    state_path(path).unlink(missing_ok=True)


def resumable_job(client: ApiClient, path: Path, now: Resumable) -> dict[str, Any] | None:
    """The job a former run of this upload left waiting for its parts."""
    state = load_state(path)
    if state is None or (state.url, state.size, state.modified_ns) != (
        now.url, now.size, now.modified_ns,
    ):  # fmt: skip
        return None
    try:
        job: dict[str, Any] = client.request("GET", f"/v1/jobs/{state.job_id}")
    except CliError:
        return None
    return job if job["status"] == "created" and job.get("part_count") else None


def upload(
    client: ApiClient,
    path: Path,
    *,
    content_type: str,
    labels: dict[str, str],
    idempotency_key: str | None,
    concurrency: int,
    on_progress: Callable[[int], None],
    on_event: Events,
) -> dict[str, Any]:
    """Create (or resume) the file's job, upload the file, complete the job."""
    status = path.stat()
    size = status.st_size
    now = Resumable(client.credentials.url, "", size, status.st_mtime_ns)
    job = resumable_job(client, path, now)
    if job is not None:
        on_event({"event": "resumed", "job_id": job["id"]})
    else:
        body = {
            "filename": path.name,
            "content_type": content_type,
            "size_bytes": size,
            "labels": labels,
        }
        key = idempotency_key or str(uuid.uuid4())
        job = client.request("POST", "/v1/jobs", json=body, headers={"Idempotency-Key": key})
        on_event({"event": "created", "job_id": job["id"], "part_count": job.get("part_count")})
    if job.get("part_count"):
        save_state(path, Resumable(now.url, job["id"], size, now.modified_ns))
        PartsUpload(client, job, path, concurrency, on_progress, on_event).run()
    else:
        upload_file(job["upload"], path, on_progress)
        on_event({"event": "uploaded", "job_id": job["id"], "bytes": size})
    completed: dict[str, Any] = client.request("POST", f"/v1/jobs/{job['id']}/complete")
    forget_state(path)
    on_event({"event": "completed", "job_id": job["id"], "status": completed["status"]})
    return completed


class PartsUpload:
    """The parts storage does not hold yet, sent `concurrency` at a time."""

    def __init__(
        self,
        client: ApiClient,
        job: dict[str, Any],
        path: Path,
        concurrency: int,
        on_progress: Callable[[int], None],
        on_event: Events,
    ) -> None:
        self.client, self.job, self.path = client, job, path
        self.concurrency = max(1, concurrency)
        self.on_progress, self.on_event = on_progress, on_event
        self.part_size: int = job["part_size_bytes"]
        self.done = 0
        self.lock = threading.Lock()
        self.storage = httpx.Client(timeout=httpx.Timeout(30.0, write=None))

    def run(self) -> None:
        held = self.client.request("GET", f"/v1/jobs/{self.job['id']}/parts")
        kept = {part["part_number"]: part for part in held["parts"]}
        wanted = [n for n in range(1, held["part_count"] + 1) if not self._keep(kept.get(n), n)]
        self._advance(self.job["size_bytes"] - sum(self._length(n) for n in wanted))
        if kept:
            self.on_event({"event": "parts_held", "parts": len(held["parts"])})
        with self.storage, self.path.open("rb") as handle:
            pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="part")
            try:
                self._send_all(handle.fileno(), wanted, pool)
            finally:
                # Ctrl-C or a failed part: parts not started are not sent;
                # the next run sends them.
                pool.shutdown(wait=True, cancel_futures=True)

    def _send_all(self, descriptor: int, wanted: list[int], pool: ThreadPoolExecutor) -> None:
        """Hash the parts and ask for their URLs a batch at a time, while the
        pool sends the batches before: one API request per batch, not per
        part. At most `ahead` signed parts wait their turn, so no URL
        outlives its expiry on a slow link."""
        batch_size = self.concurrency * 2
        ahead = threading.BoundedSemaphore(batch_size * 2)
        futures: list[Future[None]] = []
        for start in range(0, len(wanted), batch_size):
            numbers = wanted[start : start + batch_size]
            answer = self.client.request(
                "POST",
                f"/v1/jobs/{self.job['id']}/parts",
                json={"parts": [{"part_number": n, "sha256": self._sha256(descriptor, n)}
                                for n in numbers]},
            )  # fmt: skip
            for part in answer["parts"]:
                ahead.acquire()
                future = pool.submit(self._send, descriptor, part)
                future.add_done_callback(lambda _: ahead.release())
                futures.append(future)
            if any(f.done() and f.exception() for f in futures):
                break
        finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in finished:
            future.result()

    def _read(self, descriptor: int, number: int) -> bytes:
        return os.pread(descriptor, self._length(number), self.part_size * (number - 1))

    def _sha256(self, descriptor: int, number: int) -> str:
        return hashlib.sha256(self._read(descriptor, number)).hexdigest()

    def _length(self, number: int) -> int:
        size: int = self.job["size_bytes"]
        return min(self.part_size, size - self.part_size * (number - 1))

    def _keep(self, stored: dict[str, Any] | None, number: int) -> bool:
        """Whether storage already holds this part, whole (and, when it has
        its checksum, with these bytes)."""
        if stored is None or stored["size_bytes"] != self._length(number):
            return False
        if stored.get("sha256") is None:
            return True
        with self.path.open("rb") as handle:
            local = self._sha256(handle.fileno(), number)
        return bool(base64.b64encode(bytes.fromhex(local)).decode() == stored["sha256"])

    def _send(self, descriptor: int, part: dict[str, Any]) -> None:
        number = part["part_number"]
        # Read again (from the page cache, most likely): a batch's parts are
        # not all held in memory while they wait for a free thread.
        data = self._read(descriptor, number)
        headers = {k: v for k, v in part["headers"].items() if k.lower() != "content-length"}
        try:
            response = self.storage.put(part["url"], content=data, headers=headers)
        except httpx.TransportError as error:
            raise CliError(f"upload of part {number} failed: {error}", exit_code=3) from error
        if response.status_code != 200:
            reason = storage_code(response.text)
            raise CliError(f"the storage refused part {number}: {reason or describe(response)}")
        self._advance(len(data))
        self.on_event({"event": "part_uploaded", "part_number": number, "bytes": len(data)})

    def _advance(self, count: int) -> None:
        with self.lock:
            self.done += count
            self.on_progress(self.done)

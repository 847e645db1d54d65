"""The chaos soak: many jobs through two APIs and three workers on the local
stack while faults are injected, then a count of what was lost.

Clients submit files as a careful application would: creation carries an
Idempotency-Key, and every call is retried on a dropped connection or a
503, on either API. Meanwhile a schedule injects, one at a time and
spread over the submissions: a worker SIGKILL and a SIGTERM, a Redis
restart that loses its data, a PostgreSQL restart, a MinIO restart and an
API SIGKILL; killed processes are started again (`fleet`). After each
fault the soak notes when every process answers /readyz again; a fault's
recovery time (`soak_checks`) runs from the fault to the first job
completed after that. After the faults every job is awaited, and
`soak_checks` compares each with a fault-free run of its file.

`bench/chaos_soak.py` runs the long soak and prints the report; a short
one is a test (`tests/integration/worker/test_chaos.py`).
"""

from __future__ import annotations

import gzip
import hashlib
import random
import signal
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from backports import zstd

from ingest_api.core.config import Settings
from tests.support import local_stack
from tests.support.api import settings_env
from tests.support.fleet import Fleet, Member
from tests.support.hostile_files import HOSTILE_FILES
from tests.support.log_files import (
    ACCESS_LOG,
    JSON_LINES,
    LOGFMT,
    PLAIN_TEXT,
    SYSLOG_RFC3164,
    SYSLOG_RFC5424,
)

FAULTS = (
    "worker-sigkill",
    "worker-sigterm",
    "redis-wipe",
    "postgres-restart",
    "minio-restart",
    "api-sigkill",
)
SOAK_USER, SOAK_PASSWORD = "soak-admin", "soak-admin-password-0123"
TERMINAL = {"completed", "failed", "cancelled"}
WORKERS_PAUSED_BEFORE_WIPE = 3.0
# Every tenth file is hostile.
HOSTILE_EVERY = 10
SAMPLES = (JSON_LINES, LOGFMT, SYSLOG_RFC5424, SYSLOG_RFC3164, ACCESS_LOG, PLAIN_TEXT)
# Times a sample is repeated: from about a kilobyte to a few megabytes.
REPEATS = (1, 30, 300, 3000)
# What the processes run with: quick to notice, as a test wants.
SOAK_ENV = {
    "ENVIRONMENT": "staging",
    "LOG_FORMAT": "json",
    "BOOTSTRAP_ADMIN_USERNAME": SOAK_USER,
    "BOOTSTRAP_ADMIN_PASSWORD": SOAK_PASSWORD,
    "ACCESS_TOKEN_TTL_SECONDS": "3600",
    "RATE_LIMIT_PER_MINUTE": "100000",
    "LOGIN_ATTEMPTS_PER_ACCOUNT": "100000",
    "LOGIN_ATTEMPTS_PER_CLIENT": "100000",
    "WORKER_RECLAIM_IDLE_SECONDS": "5",
    "WORKER_SHUTDOWN_GRACE_SECONDS": "2",
    "WORKER_RECOVERY_INTERVAL_SECONDS": "1",
    "WORKER_RECOVERY_AFTER_SECONDS": "5",
}


@dataclass(frozen=True)
class SoakFile:
    name: str
    data: bytes
    content_type: str
    # None: the job completes; else the failure code it must end with.
    expected_code: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def soak_files(count: int, seed: int = 7) -> list[SoakFile]:
    """`count` files of mixed formats, compressions and sizes; a tenth hostile."""
    rng = random.Random(seed)
    files = []
    for number in range(count):
        if number % HOSTILE_EVERY == HOSTILE_EVERY - 1:
            hostile = HOSTILE_FILES[(number // HOSTILE_EVERY) % len(HOSTILE_FILES)]
            files.append(SoakFile(hostile.name, hostile.data, hostile.content_type, hostile.code))
            continue
        data = rng.choice(SAMPLES) * rng.choice(REPEATS)
        compression = rng.choice(("none", "gzip", "zstd"))
        if compression == "gzip":
            data, content_type = gzip.compress(data, compresslevel=1), "application/gzip"
        elif compression == "zstd":
            data, content_type = zstd.compress(data), "application/zstd"
        else:
            content_type = "text/plain"
        files.append(SoakFile(f"file-{number}-{compression}", data, content_type))
    return files


class Retrying(Exception):
    """An answer worth asking again: the service or its storage is recovering."""


class SoakClient:
    """One application's client of both APIs: retries what a fault interrupts."""

    def __init__(self, api_urls: list[str], *, give_up_after: float) -> None:
        self.api_urls = api_urls
        self.give_up_after = give_up_after
        self._turn = 0
        self._token: str | None = None

    def submit(self, file: SoakFile) -> str:
        """Create, upload and complete a job for `file`; its id."""
        key = uuid.uuid4().hex
        body = {
            "filename": f"{file.name}.log",
            "content_type": file.content_type,
            "size_bytes": len(file.data),
            "sha256": file.sha256,
        }
        job = self._call("POST", "/v1/jobs", json=body, headers={"Idempotency-Key": key}).json()
        if job.get("upload"):
            self._until_done(lambda: self._upload(job["upload"], file))
        self._until_done(lambda: self._complete(job["id"]))
        return str(job["id"])

    def status(self, job_id: str) -> str:
        return str(self._call("GET", f"/v1/jobs/{job_id}").json()["status"])

    def _upload(self, form: dict[str, Any], file: SoakFile) -> None:
        try:
            answer = httpx.post(
                form["url"],
                data=form["fields"],
                files={"file": ("upload", file.data, form["fields"]["Content-Type"])},
                timeout=30,
            )
        except httpx.TransportError as error:
            raise Retrying(str(error)) from error
        if answer.status_code >= 500:
            raise Retrying(f"storage answered {answer.status_code}")
        if answer.status_code != 204:
            raise AssertionError(f"upload refused: {answer.status_code} {answer.text}")

    def _complete(self, job_id: str) -> None:
        answer = self._call("POST", f"/v1/jobs/{job_id}/complete", expected={200, 409})
        # 409: completed by an earlier try whose answer was lost.
        if answer.status_code == 409 and self.status(job_id) == "created":
            raise AssertionError(f"/complete refused: {answer.text}")

    def _call(
        self, method: str, path: str, *, expected: set[int] | None = None, **kwargs: Any
    ) -> httpx.Response:
        wanted = expected or {200, 201}
        holder: list[httpx.Response] = []

        def once() -> None:
            answer = self._once(method, path, **kwargs)
            if answer.status_code == 401:
                self._token = None
                raise Retrying("token refused (a restart?)")
            if answer.status_code in {429, 500, 502, 503, 504}:
                raise Retrying(f"{method} {path} answered {answer.status_code}")
            if answer.status_code not in wanted:
                raise AssertionError(f"{method} {path}: {answer.status_code} {answer.text}")
            holder.append(answer)

        self._until_done(once)
        return holder[-1]

    def _once(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        url = self.api_urls[self._turn % len(self.api_urls)]
        self._turn += 1
        headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {self._login(url)}"}
        try:
            return httpx.request(method, f"{url}{path}", headers=headers, timeout=30, **kwargs)
        except httpx.TransportError as error:
            raise Retrying(str(error)) from error

    def _login(self, url: str) -> str:
        if self._token is None:
            try:
                answer = httpx.post(
                    f"{url}/v1/auth/token",
                    data={"username": SOAK_USER, "password": SOAK_PASSWORD},
                    timeout=30,
                )
            except httpx.TransportError as error:
                raise Retrying(str(error)) from error
            if answer.status_code != 200:
                raise Retrying(f"login answered {answer.status_code}")
            self._token = str(answer.json()["access_token"])
        return self._token

    def _until_done(self, step: Callable[[], None]) -> None:
        deadline = time.monotonic() + self.give_up_after
        while True:
            try:
                step()
                return
            except Retrying:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)


@dataclass
class InjectedFault:
    name: str
    # When it was injected (wall clock, as the database's timestamps), and
    # how long until every process answered /readyz 200 again.
    at: float
    ready_after: float


@dataclass
class SoakRun:
    """What the clients submitted (job id -> file) and the faults injected."""

    submitted: dict[str, SoakFile] = field(default_factory=dict)
    faults: list[InjectedFault] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)
    seconds: float = 0.0


def soak_fleet(settings: Settings, log_dir: Path, *, apis: int = 2, workers: int = 3) -> Fleet:
    env = {**settings_env(settings), **SOAK_ENV}
    members = [Member(f"api-{n}", "ingest-api", env, log_dir / f"api-{n}.log") for n in range(apis)]
    members += [
        Member(f"worker-{n}", "ingest-worker", {**env, "WORKER_NAME": f"soak-worker-{n}"},
               log_dir / f"worker-{n}.log")
        for n in range(workers)
    ]  # fmt: skip
    return Fleet(members)


def inject(fault: str, fleet: Fleet, rng: random.Random) -> float:
    """One fault, over once what it stopped runs again; when it struck (wall clock)."""
    if fault.endswith("-sigkill") or fault.endswith("-sigterm"):
        kind, _, signal_name = fault.partition("-")
        member = rng.choice(fleet.named(f"{kind}-"))
        restarts, struck = member.restarts, time.time()
        fleet.signal(member, signal.SIGKILL if signal_name == "sigkill" else signal.SIGTERM)
        fleet.wait_for(lambda: member.restarts > restarts, timeout=60)
    elif fault == "redis-wipe":
        # Workers paused first, so that jobs wait in the stream (and one
        # may be pending) when Redis loses it: what the recovery is for.
        workers = fleet.named("worker-")
        for worker in workers:
            fleet.signal(worker, signal.SIGSTOP)
        time.sleep(WORKERS_PAUSED_BEFORE_WIPE)
        struck = time.time()
        try:
            local_stack.wipe("redis")
        finally:
            for worker in workers:
                fleet.signal(worker, signal.SIGCONT)
    else:
        component = fault.removesuffix("-restart")
        struck = time.time()
        local_stack.stop(component)
        local_stack.start(component)
    return struck


def run_soak(
    settings: Settings,
    log_dir: Path,
    files: list[SoakFile],
    faults: list[str],
    *,
    fault_every: float = 6.0,
    clients: int = 4,
    drain_timeout: float = 300.0,
    seed: int = 11,
) -> SoakRun:
    """Submit `files` while `faults` are injected `fault_every` seconds apart."""
    rng = random.Random(seed)
    run = SoakRun()
    fleet = soak_fleet(settings, log_dir)
    fleet.start()
    started = time.monotonic()
    lock = threading.Lock()
    # Submissions spread over the faults' schedule and three slots past the
    # last fault, so that jobs still arrive once it is over.
    pace = fault_every * (len(faults) + 3) / max(1, len(files))
    try:
        urls = [member.url for member in fleet.named("api-")]

        def submit(number: int, file: SoakFile) -> None:
            time.sleep(max(0.0, started + number * pace - time.monotonic()))
            job_id = SoakClient(urls, give_up_after=120).submit(file)
            with lock:
                run.submitted[job_id] = file

        with ThreadPoolExecutor(max_workers=clients) as pool:
            submissions = [pool.submit(submit, n, f) for n, f in enumerate(files)]
            for number, fault in enumerate(faults):
                time.sleep(max(0.0, started + (number + 1) * fault_every - time.monotonic()))
                at = inject(fault, fleet, rng)
                fleet.wait_for(fleet.ready, timeout=120)
                run.faults.append(InjectedFault(fault, at, time.time() - at))
            for future in submissions:
                future.result()
        run.unfinished = wait_for_terminal(urls, list(run.submitted), drain_timeout)
    finally:
        run.seconds = time.monotonic() - started
        fleet.stop()
    return run


def wait_for_terminal(urls: list[str], job_ids: list[str], timeout: float) -> list[str]:
    """The jobs still not in a terminal state after `timeout` seconds."""
    client = SoakClient(urls, give_up_after=60)
    deadline = time.monotonic() + timeout
    waiting = list(job_ids)
    while waiting and time.monotonic() < deadline:
        waiting = [job_id for job_id in waiting if client.status(job_id) not in TERMINAL]
        if waiting:
            time.sleep(0.5)
    return waiting

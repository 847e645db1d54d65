"""Outages of PostgreSQL and Redis, for real: the processes are stopped and
started again. The API answers 503 with Retry-After (never a traceback),
accepts jobs while Redis is down, and recovers by itself."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from httpx import Response
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from ingest_api.core.config import Settings
from ingest_api.core.db import Database, DriverConnection
from ingest_api.core.errors import DependencyUnavailable
from ingest_api.core.metrics import REGISTRY
from tests.support import local_stack
from tests.support.api import create_job, job_request, make_user, upload
from tests.support.database import with_database
from tests.support.queue import stream_messages

BODY = b"resilience\n"


def test_503_with_retry_after_while_postgres_is_down_then_recovery(
    client: TestClient, settings: Settings
) -> None:
    uploader = make_user(client, "uploader")
    job_path = f"/v1/jobs/{create_job(client, uploader, BODY)['id']}"
    # A list goes through the ORM; a job read and a creation through the
    # driver's own connections, in batches (jobs.reading, jobs.creation).
    requests = [("GET", "/v1/jobs", None), ("GET", job_path, None), ("POST", "/v1/jobs", BODY)]

    def send(method: str, path: str, body: bytes | None) -> Response:
        if body is None:
            return client.request(method, path, headers=uploader.headers)
        return client.post(path, json=job_request(body), headers=uploader.headers)

    local_stack.stop("postgres")
    try:
        down = [send(*request) for request in requests]
        ready = client.get("/readyz")
    finally:
        local_stack.start("postgres")

    for answer in down:
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"].isdigit()
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["dependency"] == "postgres"
        assert "Traceback" not in answer.text
    assert ready.status_code == 503
    # Which dependency, never why: the error names hosts, ports and users.
    assert ready.json()["checks"] == {"postgres": "failed", "redis": "ok", "s3": "ok"}
    assert settings.database_url.rsplit("@", 1)[-1].split("/")[0] not in ready.text

    # Served again within seconds: the pools connect again by themselves.
    assert seconds_until(lambda: [send(*r).status_code for r in requests] == [200, 200, 201]) < 10
    assert wait_until_ready(client).status_code == 200


def seconds_until(served: Callable[[], bool], timeout: float = 60) -> float:
    """How long until `served()` is true (the test fails past `timeout`)."""
    started = time.monotonic()
    while not served():
        assert time.monotonic() - started < timeout, f"not served after {timeout} s"
        time.sleep(0.2)
    return time.monotonic() - started


def test_after_a_long_outage_the_api_serves_again_within_seconds(
    client: TestClient, settings: Settings
) -> None:
    """psycopg_pool doubles the wait between its reconnection attempts: after
    20 s down, its next one could be 10 s or more after PostgreSQL is back."""
    uploader = make_user(client, "uploader")
    job_path = f"/v1/jobs/{create_job(client, uploader, BODY)['id']}"

    def read() -> int:
        return client.get(job_path, headers=uploader.headers).status_code

    local_stack.stop("postgres")
    try:
        deadline = time.monotonic() + 20
        down = {read() for _ in iter(lambda: time.monotonic() < deadline, False)}
    finally:
        local_stack.start("postgres")

    assert down == {503}
    assert seconds_until(lambda: read() == 200) < 6


def wait_until_ready(client: TestClient, timeout: float = 10) -> Response:
    """/readyz until it says ready (its answer is kept for a second)."""
    deadline = time.monotonic() + timeout
    while (answer := client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    return answer


def test_a_job_completed_while_redis_is_down_reaches_the_stream_later(
    client: TestClient, settings: Settings
) -> None:
    uploader = make_user(client, "uploader")
    job = create_job(client, uploader, BODY)
    assert upload(job, BODY).status_code == 204

    local_stack.stop("redis")
    try:
        completed = client.post(f"/v1/jobs/{job['id']}/complete", headers=uploader.headers)
        assert completed.status_code == 200, completed.text
        assert completed.json()["status"] == "queued"
        assert client.get("/readyz").json()["checks"]["redis"] == "failed"
    finally:
        local_stack.start("redis")

    messages = stream_messages(settings, timeout=30)
    assert [fields["job_id"] for fields in messages] == [job["id"]]


def test_a_dropped_connection_is_retried_and_counted(settings: Settings) -> None:
    """The first attempt's connection is really terminated by the server."""
    attempts: list[int] = []

    async def work(session: AsyncSession) -> int:
        attempts.append(1)
        if len(attempts) == 1:
            await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return int(await session.scalar(text("SELECT 41 + 1")) or 0)

    before = connection_retries()
    assert with_database(settings, lambda db: db.transaction(work)) == 42
    assert len(attempts) == 2
    assert connection_retries() == before + 1


def test_contention_that_outlasts_the_retries_is_a_503_that_says_so(settings: Settings) -> None:
    """The server itself raises a serialization failure on every attempt."""
    attempts: list[int] = []

    async def work(session: AsyncSession) -> None:
        attempts.append(1)
        await session.execute(
            text(
                "DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = 'serialization_failure'; "
                "END $$"
            )
        )

    labels = {"kind": "serialization"}
    before = REGISTRY.get_sample_value("ingest_db_transaction_retries_total", labels) or 0.0
    with pytest.raises(DependencyUnavailable) as raised:
        with_database(settings, lambda db: db.transaction(work))
    assert len(attempts) == settings.db_retry_attempts
    assert "too busy" in raised.value.detail
    assert "unreachable" not in raised.value.detail
    after = REGISTRY.get_sample_value("ingest_db_transaction_retries_total", labels) or 0.0
    assert after == before + settings.db_retry_attempts - 1


def test_a_dropped_driver_connection_is_retried_counted_and_not_reused(settings: Settings) -> None:
    """The same through `Database.run`, the hot paths' driver connection: the
    terminated connection leaves the pool, and the retry gets a live one."""
    backends: list[int] = []

    async def work(conn: DriverConnection) -> int:
        backends.append(conn.info.backend_pid)
        if len(backends) == 1:
            await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
        row = await (await conn.execute("SELECT 41 + 1")).fetchone()
        return int(row[0]) if row else 0

    before = connection_retries()
    assert with_database(settings, lambda db: db.run(work)) == 42
    assert len(backends) == 2
    assert backends[0] != backends[1]
    assert connection_retries() == before + 1


def test_an_orm_rollback_is_undone_beside_the_hot_paths_autocommit(settings: Settings) -> None:
    """The hot paths' connections are in autocommit, in a pool of their own:
    an ORM transaction between two of their units still rolls back whole."""

    async def write_then_fail(session: AsyncSession) -> None:
        await session.execute(text("CREATE TABLE rolled_back_probe (id int)"))
        raise RuntimeError("roll back")

    async def use(db: Database) -> bool:
        await db.run(lambda conn: _backend_pid(conn))
        with pytest.raises(RuntimeError, match="roll back"):
            await db.transaction(write_then_fail)
        return await db.run(
            lambda conn: _exists(conn, "SELECT to_regclass('rolled_back_probe') IS NOT NULL")
        )

    assert not with_database(settings, use)


def connection_retries() -> float:
    labels = {"kind": "connection"}
    return REGISTRY.get_sample_value("ingest_db_transaction_retries_total", labels) or 0.0


async def _backend_pid(conn: DriverConnection) -> int:
    return conn.info.backend_pid


async def _exists(conn: DriverConnection, query: str) -> bool:
    row = await (await conn.execute(query)).fetchone()
    return bool(row and row[0])

"""Outages of PostgreSQL and Redis, for real: the processes are stopped and
started again. The API answers 503 with Retry-After (never a traceback),
accepts jobs while Redis is down, and recovers by itself."""

from __future__ import annotations

import asyncio
import time

import redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.testclient import TestClient

from ingest_api.core.config import Settings
from ingest_api.core.db import Database
from ingest_api.core.metrics import REGISTRY
from tests.support import local_stack
from tests.support.api import create_job, make_user, upload

BODY = b"resilience\n"


def test_503_with_retry_after_while_postgres_is_down_then_recovery(
    client: TestClient, settings: Settings
) -> None:
    uploader = make_user(client, "uploader")
    assert client.get("/v1/jobs", headers=uploader.headers).status_code == 200

    local_stack.stop("postgres")
    try:
        down = client.get("/v1/jobs", headers=uploader.headers)
        ready = client.get("/readyz")
    finally:
        local_stack.start("postgres")

    assert down.status_code == 503
    assert down.headers["Retry-After"].isdigit()
    assert down.headers["content-type"] == "application/problem+json"
    assert down.json()["dependency"] == "postgres"
    assert "Traceback" not in down.text
    assert ready.status_code == 503
    assert ready.json()["checks"]["postgres"].startswith("failed")

    back = client.get("/v1/jobs", headers=uploader.headers)
    assert back.status_code == 200
    assert client.get("/readyz").status_code == 200


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
        assert client.get("/readyz").json()["checks"]["redis"].startswith("failed")
    finally:
        local_stack.start("redis")

    deadline = time.monotonic() + 30
    with redis.Redis.from_url(settings.redis_url, decode_responses=True) as conn:
        while not (entries := conn.xrange(settings.queue_stream)):
            assert time.monotonic() < deadline, "the outbox never reached the stream"
            time.sleep(0.2)
    assert [fields["job_id"] for _, fields in entries] == [job["id"]]


def test_a_dropped_connection_is_retried_and_counted(settings: Settings) -> None:
    """The first attempt's connection is really terminated by the server."""
    attempts: list[int] = []

    async def work(session: AsyncSession) -> int:
        attempts.append(1)
        if len(attempts) == 1:
            await session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return int(await session.scalar(text("SELECT 41 + 1")) or 0)

    async def run() -> int:
        db = Database.from_settings(settings)
        try:
            return await db.transaction(work)
        finally:
            await db.dispose()

    def retries() -> float:
        labels = {"kind": "connection"}
        return REGISTRY.get_sample_value("ingest_db_transaction_retries_total", labels) or 0.0

    before = retries()
    assert asyncio.run(run()) == 42
    assert len(attempts) == 2
    assert retries() == before + 1

"""The outbox relay with real `ingest-api` processes: two replicas relay a
backlog side by side without sending a row twice, and a process killed
with unsent rows loses none of them (the next one sends them)."""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import psycopg
import redis

from ingest_api.core.config import Settings
from tests.support import local_stack
from tests.support.api import ApiUser, create_job, make_user, settings_env, upload
from tests.support.processes import ServerProcess, api_server

BODY = b"relayed\n"


def env_for(settings: Settings) -> dict[str, str]:
    return {**settings_env(settings), "ENVIRONMENT": "staging", "LOG_FORMAT": "json"}


def uploaded_jobs(server: ServerProcess, count: int) -> tuple[ApiUser, list[str]]:
    """A user of `server` and `count` of their jobs, uploaded, not yet completed."""
    with httpx.Client(base_url=server.url) as api:
        user = make_user(api)
        jobs = [create_job(api, user, BODY) for _ in range(count)]
    for job in jobs:
        assert upload(job, BODY).status_code == 204
    return user, [job["id"] for job in jobs]


def complete(server: ServerProcess, user: ApiUser, job_ids: list[str]) -> None:
    with httpx.Client(base_url=server.url) as api:
        for job_id in job_ids:
            answer = api.post(f"/v1/jobs/{job_id}/complete", headers=user.headers)
            assert answer.status_code == 200, answer.text


def unsent(settings: Settings) -> int:
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()
    return int(row[0]) if row else 0


def messages_per_job(settings: Settings, expected: int, timeout: float = 60) -> Counter[str]:
    """How many stream messages name each job, once `expected` have arrived."""
    deadline = time.monotonic() + timeout
    with redis.Redis.from_url(settings.redis_url, decode_responses=True) as conn:
        while (length := conn.xlen(settings.queue_stream)) < expected:
            assert time.monotonic() < deadline, f"{length} of {expected} messages relayed"
            time.sleep(0.2)
        time.sleep(1.5)  # a duplicate would arrive within the relays' poll
        entries = conn.xrange(settings.queue_stream)
    return Counter(fields["job_id"] for _, fields in entries)


def test_two_replicas_relay_a_backlog_without_sending_a_row_twice(
    settings: Settings, tmp_path: Path
) -> None:
    env = env_for(settings)
    with (
        api_server(env, tmp_path / "a.log") as first,
        api_server(env, tmp_path / "b.log") as second,
    ):
        user, job_ids = uploaded_jobs(first, 40)
        local_stack.stop("redis")
        try:
            # A backlog both replicas hold rows of, and both relay once Redis is back.
            complete(first, user, job_ids[::2])
            complete(second, user, job_ids[1::2])
            backlog = unsent(settings)
        finally:
            local_stack.start("redis")
        per_job = messages_per_job(settings, len(job_ids))

    assert backlog == len(job_ids)
    assert per_job == Counter({job_id: 1 for job_id in job_ids})
    assert unsent(settings) == 0


def test_an_api_killed_with_unsent_rows_loses_none(settings: Settings, tmp_path: Path) -> None:
    env = env_for(settings)
    local_stack.stop("redis")
    try:
        with api_server(env, tmp_path / "killed.log") as doomed:
            user, job_ids = uploaded_jobs(doomed, 12)
            complete(doomed, user, job_ids)
            doomed.process.send_signal(signal.SIGKILL)
            doomed.process.wait()
        backlog = unsent(settings)
    finally:
        local_stack.start("redis")

    with api_server(env, tmp_path / "next.log"):
        per_job = messages_per_job(settings, len(job_ids))

    assert backlog == len(job_ids)
    assert per_job == Counter({job_id: 1 for job_id in job_ids})

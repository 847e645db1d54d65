"""Delivery semantics with real processes and real Redis: a worker killed
mid-job, a poison message, SIGTERM during a job, Redis restarted under
running workers. Every job still ends exactly once."""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import redis
from prometheus_client.parser import text_string_to_metric_families

from ingest_api.core.config import Settings
from tests.integration.worker.conftest import StartWorker
from tests.support import local_stack
from tests.support.job_state import job_row, transitions, wait_for
from tests.support.logs import json_lines, large_gzip_log

Submit = Callable[..., dict[str, Any]]


def completions(settings: Settings, job_id: str) -> int:
    return sum(1 for _, to, _ in transitions(settings, job_id) if to == "completed")


def test_a_killed_workers_job_is_reclaimed_and_completed_once(
    settings: Settings, submit: Submit, start_worker: StartWorker
) -> None:
    job = submit(large_gzip_log(400), content_type="application/gzip")

    with start_worker() as doomed:
        wait_for(settings, job["id"], {"processing"})
        time.sleep(0.5)
        doomed.process.send_signal(signal.SIGKILL)
        doomed.process.wait()
    assert job_row(settings, job["id"])["status"] == "processing"

    with start_worker():
        row = wait_for(settings, job["id"], {"completed", "failed"}, timeout=180)

    assert row["status"] == "completed", row
    assert completions(settings, job["id"]) == 1
    # Picked up once from `queued`, then taken over without a second move.
    assert [to for _, to, _ in transitions(settings, job["id"])] == [
        "created", "queued", "processing", "completed",
    ]  # fmt: skip
    with redis.Redis.from_url(settings.redis_url, decode_responses=True) as conn:
        assert conn.xpending(settings.queue_stream, "ingest-workers")["pending"] == 0


def test_a_malformed_message_is_dead_lettered_at_once_and_its_job_still_completes(
    settings: Settings, submit: Submit, start_worker: StartWorker
) -> None:
    target = submit(json_lines(5))
    # A second message for the same live job, malformed: `attempt` is not a
    # number. It can never be handled, so it is dead-lettered on its first
    # delivery, and the job, whose own message is fine, is left alone.
    with redis.Redis.from_url(settings.redis_url, decode_responses=True) as conn:
        conn.xadd(settings.queue_stream, {"job_id": target["id"], "attempt": "many"})
    others = [submit(json_lines(3)) for _ in range(3)]

    with start_worker(WORKER_MAX_DELIVERIES="2", WORKER_RECLAIM_IDLE_SECONDS="1"):
        for job in [target, *others]:
            assert wait_for(settings, job["id"], {"completed"})["status"] == "completed"
        deadline = time.monotonic() + 60
        with redis.Redis.from_url(settings.redis_url, decode_responses=True) as conn:
            while not (dead := conn.xrange(f"{settings.queue_stream}:dead")):
                assert time.monotonic() < deadline, "nothing was dead-lettered"
                time.sleep(0.2)
            pending = conn.xpending(settings.queue_stream, "ingest-workers")["pending"]

    [(_, letter)] = dead
    assert (letter["job_id"], letter["attempt"], letter["deliveries"]) == (
        target["id"],
        "many",
        "1",
    )
    assert letter["reason"].startswith("malformed message:")
    assert pending == 0
    for job in [target, *others]:
        assert completions(settings, job["id"]) == 1


def test_a_message_for_a_job_this_database_lacks_is_dropped_and_counted(
    settings: Settings, submit: Submit, start_worker: StartWorker
) -> None:
    """As when another service shares the Redis database: the message is
    acknowledged (never retried) and shows as its own outcome, with a warning."""
    stranger = str(uuid.uuid4())
    with redis.Redis.from_url(settings.redis_url, decode_responses=True) as conn:
        conn.xadd(settings.queue_stream, {"job_id": stranger, "attempt": "1"})
    mine = submit(json_lines(3))

    with start_worker() as worker:
        assert wait_for(settings, mine["id"], {"completed"})["status"] == "completed"
        metrics = httpx.get(f"{worker.url}/metrics").text
        log = worker.log_lines()

    families = {f.name: f for f in text_string_to_metric_families(metrics)}
    outcomes = {
        s.labels["outcome"]: s.value
        for s in families["ingest_worker_jobs"].samples
        if s.name.endswith("_total")
    }
    assert outcomes == {"unknown-job": 1.0, "completed": 1.0}
    by_format = {
        (s.name, s.labels["format"]): s.value
        for name in ("ingest_worker_input_bytes", "ingest_worker_output_bytes")
        for s in families[name].samples
        if s.name.endswith("_total")
    }
    assert by_format[("ingest_worker_input_bytes_total", "json_lines")] == mine["size_bytes"]
    assert by_format[("ingest_worker_output_bytes_total", "json_lines")] > 0
    consumers = {s.labels["state"]: s.value for s in families["ingest_worker_consumers"].samples}
    assert consumers == {"busy": 0.0, "idle": 1.0}
    warnings = [line for line in log if stranger in line and "does not have" in line]
    assert len(warnings) == 1
    with redis.Redis.from_url(settings.redis_url, decode_responses=True) as conn:
        assert conn.xpending(settings.queue_stream, "ingest-workers")["pending"] == 0


def test_a_dead_lettered_job_fails_with_the_reason(
    settings: Settings, submit: Submit, start_worker: StartWorker
) -> None:
    job = submit(json_lines(5))
    # The job's real message is taken by a consumer that never acknowledges
    # it (as if it crashed each time); then a real worker finds it too often
    # delivered and gives up.
    with redis.Redis.from_url(settings.redis_url, decode_responses=True) as conn:
        conn.xgroup_create(settings.queue_stream, "ingest-workers", id="0", mkstream=True)
        deadline = time.monotonic() + 10
        while not conn.xreadgroup("ingest-workers", "crasher", {settings.queue_stream: ">"}):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        for _ in range(2):
            time.sleep(1.1)
            conn.xautoclaim(settings.queue_stream, "ingest-workers", "crasher", 1000, "0-0")

    with start_worker(WORKER_MAX_DELIVERIES="2", WORKER_RECLAIM_IDLE_SECONDS="1"):
        row = wait_for(settings, job["id"], {"failed", "completed"})

    assert row["status"] == "failed"
    assert "gave up after" in row["failure_reason"]


def test_sigterm_hands_the_running_job_back_and_exits_cleanly(
    settings: Settings, submit: Submit, start_worker: StartWorker
) -> None:
    job = submit(large_gzip_log(400), content_type="application/gzip")

    with start_worker(WORKER_SHUTDOWN_GRACE_SECONDS="1") as worker:
        wait_for(settings, job["id"], {"processing"})
        started = time.monotonic()
        worker.process.send_signal(signal.SIGTERM)
        exit_code = worker.process.wait(timeout=30)
        stopped_in = time.monotonic() - started
        log = "\n".join(worker.log_lines())

    assert exit_code == 0, log
    assert stopped_in < 15
    assert "handing running jobs back" in log
    assert job_row(settings, job["id"])["status"] == "queued"

    with start_worker():
        row = wait_for(settings, job["id"], {"completed", "failed"}, timeout=180)
    assert row["status"] == "completed"
    assert completions(settings, job["id"]) == 1
    reasons = [reason for _, to, reason in transitions(settings, job["id"]) if to == "queued"]
    assert reasons == ["upload verified", "released at worker shutdown"]


def test_every_job_completes_across_a_redis_restart(
    settings: Settings, submit: Submit, start_worker: StartWorker
) -> None:
    first = [submit(json_lines(20)) for _ in range(3)]
    with start_worker(WORKER_CONCURRENCY="2"), start_worker():
        for job in first:
            wait_for(settings, job["id"], {"completed"})
        local_stack.stop("redis")
        local_stack.start("redis")
        # Jobs accepted after the restart reach the workers too.
        second = [submit(json_lines(20)) for _ in range(3)]
        for job in second:
            assert wait_for(settings, job["id"], {"completed"}, timeout=90)["status"] == "completed"
    for job in first + second:
        assert completions(settings, job["id"]) == 1

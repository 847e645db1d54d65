"""Jobs whose message was lost are found and queued again: Redis restarted
without its data under a running worker, the stream deleted, replicas
recovering at once. Every job ends, exactly once; each takeover is in the
job's history."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import redis

from ingest_api.core.config import Settings
from ingest_api.queue.promised import promised_job_ids
from ingest_api.runtime import Runtime
from ingest_api.worker.recovery import Recovery
from tests.integration.worker.conftest import StartWorker
from tests.support import local_stack
from tests.support.job_state import job_row, transitions, wait_for
from tests.support.logs import json_lines, large_gzip_log

Submit = Callable[..., dict[str, Any]]
GROUP = "ingest-workers"
QUICK_RECOVERY = {
    "WORKER_RECOVERY_INTERVAL_SECONDS": "0.5",
    "WORKER_RECOVERY_AFTER_SECONDS": "2",
}
LOST = "its message was lost; queued again"


def completions(settings: Settings, job_id: str) -> int:
    return sum(1 for _, to, _ in transitions(settings, job_id) if to == "completed")


def takeovers(settings: Settings, job_id: str) -> int:
    return sum(1 for _, _, reason in transitions(settings, job_id) if reason == LOST)


def wait_until_relayed(settings: Settings, jobs: list[dict[str, Any]]) -> None:
    """Until every job's message is in the stream (the outbox is empty)."""
    deadline = time.monotonic() + 30
    with psycopg.connect(settings.database_url) as conn:
        while conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone() != (0,):
            assert time.monotonic() < deadline, "the outbox was not relayed"
            time.sleep(0.1)
    with redis.Redis.from_url(settings.redis_url) as conn:
        assert conn.xlen(settings.queue_stream) >= len(jobs)


def test_every_job_completes_once_after_redis_loses_its_data(
    settings: Settings, submit: Submit, start_worker: StartWorker
) -> None:
    running = submit(large_gzip_log(300), content_type="application/gzip")
    with start_worker(**QUICK_RECOVERY) as worker:
        wait_for(settings, running["id"], {"processing"})
        # Queued behind the running job: in the stream, not yet delivered.
        waiting = [submit(json_lines(20)) for _ in range(8)]
        wait_until_relayed(settings, [running, *waiting])
        local_stack.wipe("redis")

        for job in [running, *waiting]:
            assert wait_for(settings, job["id"], {"completed"}, timeout=120)["status"] == (
                "completed"
            )
        health = httpx.get(f"{worker.url}/healthz")

    assert health.status_code == 200
    for job in [running, *waiting]:
        assert completions(settings, job["id"]) == 1
    # The waiting jobs' messages were lost before any worker read them.
    assert [takeovers(settings, job["id"]) for job in waiting] == [1] * len(waiting)


def test_a_deleted_stream_is_created_again_with_its_group(
    settings: Settings, submit: Submit, start_worker: StartWorker
) -> None:
    with start_worker() as worker:
        first = submit(json_lines(5))
        wait_for(settings, first["id"], {"completed"})
        with redis.Redis.from_url(settings.redis_url) as conn:
            conn.delete(settings.queue_stream)  # the group goes with it
        later = [submit(json_lines(5)) for _ in range(3)]
        for job in later:
            assert wait_for(settings, job["id"], {"completed"})["status"] == "completed"
        log = "\n".join(worker.log_lines())

    assert "the consumer group is missing" in log
    assert [takeovers(settings, job["id"]) for job in later] == [0, 0, 0]


def test_a_worker_that_cannot_read_the_stream_says_it_is_unhealthy(
    start_worker: StartWorker,
) -> None:
    with start_worker(WORKER_UNHEALTHY_AFTER_SECONDS="2") as worker:
        assert httpx.get(f"{worker.url}/healthz").status_code == 200
        local_stack.stop("redis")
        try:
            sick = wait_for_health(worker.url, 503)
        finally:
            local_stack.start("redis")
        wait_for_health(worker.url, 200)

    assert sick.json()["status"].startswith("cannot read the job stream for")


def wait_for_health(url: str, status: int, timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while (answer := httpx.get(f"{url}/healthz")).status_code != status:
        assert time.monotonic() < deadline, f"/healthz still {answer.status_code}"
        time.sleep(0.2)
    return answer


def run_recoveries(settings: Settings, replicas: int) -> list[int]:
    """One recovery round on each of `replicas` workers' runtimes, all at once."""

    async def run() -> list[int]:
        runtimes = [Runtime.from_settings(settings) for _ in range(replicas)]
        try:
            recoveries = [
                Recovery(runtime, group=GROUP, name=f"replica-{n}")
                for n, runtime in enumerate(runtimes)
            ]
            return list(await asyncio.gather(*(r.recover_once() for r in recoveries)))
        finally:
            for runtime in runtimes:
                await runtime.close()

    return asyncio.run(run())


def lose_the_stream(settings: Settings) -> None:
    with redis.Redis.from_url(settings.redis_url) as conn:
        conn.flushdb()
    time.sleep(settings.worker_recovery_after_seconds + 0.1)


def test_replicas_recovering_at_once_take_each_lost_job_over_once(
    settings: Settings, submit: Submit
) -> None:
    quick = settings.model_copy(update={"worker_recovery_after_seconds": 1})
    jobs = [submit(json_lines(3)) for _ in range(6)]
    wait_until_relayed(quick, jobs)
    lose_the_stream(quick)

    taken = run_recoveries(quick, replicas=3)
    wait_until_relayed(quick, jobs)
    again = run_recoveries(quick, replicas=3)  # the new messages are promised

    assert sum(taken) == len(jobs)
    assert again == [0, 0, 0]
    assert [takeovers(quick, job["id"]) for job in jobs] == [1] * len(jobs)
    with psycopg.connect(quick.database_url) as conn:
        per_job = conn.execute(
            "SELECT payload->>'job_id', count(*) FROM outbox GROUP BY 1"
        ).fetchall()
    assert sorted(count for _, count in per_job) == [2] * len(jobs)


def test_an_unsent_message_naming_no_job_does_not_hide_lost_ones(
    settings: Settings, submit: Submit
) -> None:
    quick = settings.model_copy(update={"worker_recovery_after_seconds": 1})
    jobs = [submit(json_lines(3)) for _ in range(2)]
    wait_until_relayed(quick, jobs)
    lose_the_stream(quick)
    with psycopg.connect(quick.database_url) as conn:
        conn.execute(
            'INSERT INTO outbox (stream, payload) VALUES (%s, \'{"attempt": "1"}\')',
            (quick.queue_stream,),
        )
        conn.commit()
        # Held locked from here, so that the relay (SKIP LOCKED) leaves it unsent.
        conn.execute("SELECT id FROM outbox WHERE sent_at IS NULL FOR UPDATE")
        taken = run_recoveries(quick, replicas=1)

    assert taken == [len(jobs)]


def test_a_job_lost_too_often_fails_as_lost_repeatedly(settings: Settings, submit: Submit) -> None:
    quick = settings.model_copy(
        update={"worker_recovery_after_seconds": 1, "worker_max_deliveries": 2}
    )
    job = submit(json_lines(3))
    for _ in range(3):
        wait_until_relayed(quick, [job])
        lose_the_stream(quick)
        run_recoveries(quick, replicas=1)

    row = job_row(quick, job["id"])
    assert (row["status"], row["failure_code"]) == ("failed", "lost_repeatedly")
    assert takeovers(quick, job["id"]) == 2


def test_the_stream_promises_undelivered_and_pending_messages_only(
    settings: Settings,
) -> None:
    stream = settings.queue_stream
    with redis.Redis.from_url(settings.redis_url, decode_responses=True) as conn:
        conn.xgroup_create(stream, GROUP, id="0", mkstream=True)
        for name in ("acked", "pending", "new-1", "new-2"):
            conn.xadd(stream, {"job_id": name})
        [(_, delivered)] = conn.xreadgroup(GROUP, "c", {stream: ">"}, count=2)
        conn.xack(stream, GROUP, delivered[0][0])

    async def promised(group: str, on_stream: str = stream) -> set[str]:
        client = Runtime.from_settings(settings).redis
        try:
            return await promised_job_ids(client, stream=on_stream, group=group)
        finally:
            await client.aclose()

    assert asyncio.run(promised(GROUP)) == {"pending", "new-1", "new-2"}
    # A missing group will be created again from the start: all is promised.
    assert asyncio.run(promised("other-group")) == {"acked", "pending", "new-1", "new-2"}
    assert asyncio.run(promised(GROUP, "no-such-stream")) == set()

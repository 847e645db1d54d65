"""The queue's gauges read from a real Redis: a stream nobody reads yet, a
group with pending and acknowledged messages, dead letters, Redis down."""

from __future__ import annotations

import asyncio
import contextlib
import time

import redis
import redis.asyncio as aioredis

from ingest_api.core.metrics import QUEUE_OLDEST_AGE, REGISTRY
from ingest_api.queue.consumer import CONSUMER_GROUP, dead_letter_stream
from ingest_api.queue.gauges import QueueSample, publish, sample_forever, sample_queue

STREAM = "gauges:jobs"


def sampled(redis_url: str) -> QueueSample:
    async def run() -> QueueSample:
        async with aioredis.Redis.from_url(redis_url, decode_responses=True) as conn:
            return await sample_queue(conn, stream=STREAM, group=CONSUMER_GROUP)

    return asyncio.run(run())


def counts(sample: QueueSample) -> tuple[int, int, int, int]:
    return (sample.messages, sample.undelivered, sample.pending, sample.dead_letters)


def sync_redis(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url, decode_responses=True)


def test_no_stream_is_an_empty_queue(redis_url: str) -> None:
    sample = sampled(redis_url)
    assert counts(sample) == (0, 0, 0, 0)
    assert sample.oldest_age_seconds(int(time.time() * 1000)) == 0.0


def test_before_any_worker_joined_every_message_is_undelivered(redis_url: str) -> None:
    with sync_redis(redis_url) as conn:
        first = conn.xadd(STREAM, {"job_id": "a"}, id="1000-0")
        conn.xadd(STREAM, {"job_id": "b"})

    sample = sampled(redis_url)

    assert (sample.messages, sample.undelivered, sample.pending) == (2, 2, 0)
    assert sample.oldest_undelivered_id == first
    assert sample.oldest_age_seconds(11_000) == 10.0


def test_pending_acknowledged_and_undelivered_are_told_apart(redis_url: str) -> None:
    with sync_redis(redis_url) as conn:
        ids = [conn.xadd(STREAM, {"job_id": str(n)}) for n in range(4)]
        conn.xgroup_create(STREAM, CONSUMER_GROUP, id="0")
        conn.xreadgroup(CONSUMER_GROUP, "w1", {STREAM: ">"}, count=3)
        conn.xack(STREAM, CONSUMER_GROUP, ids[0])
        conn.xadd(dead_letter_stream(STREAM), {"job_id": "x", "reason": "poison"})

    sample = sampled(redis_url)

    assert counts(sample) == (4, 1, 2, 1)
    assert sample.oldest_pending_id == ids[1]
    assert sample.oldest_undelivered_id == ids[3]


def test_a_stream_with_entries_deleted_counts_all_as_undelivered_at_most(redis_url: str) -> None:
    with sync_redis(redis_url) as conn:
        ids = [conn.xadd(STREAM, {"job_id": str(n)}) for n in range(3)]
        conn.xgroup_create(STREAM, CONSUMER_GROUP, id="0")
        conn.xdel(STREAM, ids[1])  # Redis can no longer tell the group's lag

    sample = sampled(redis_url)

    assert (sample.messages, sample.undelivered) == (2, 2)
    assert sample.oldest_undelivered_id == ids[0]


def test_the_gauges_carry_the_sample(redis_url: str) -> None:
    with sync_redis(redis_url) as conn:
        conn.xadd(STREAM, {"job_id": "a"}, id="1000-0")
    publish(sampled(redis_url), now_ms=61_000)
    assert REGISTRY.get_sample_value("ingest_queue_undelivered_messages") == 1
    assert REGISTRY.get_sample_value("ingest_queue_oldest_message_age_seconds") == 60.0


def errors_counted() -> float:
    return REGISTRY.get_sample_value("ingest_queue_sample_errors_total") or 0.0


def test_redis_down_keeps_the_last_value_and_counts_the_failure() -> None:
    QUEUE_OLDEST_AGE.set(42)
    before = errors_counted()

    async def run() -> None:
        # Nothing listens on port 1: every sampling fails to connect.
        async with aioredis.Redis.from_url(
            "redis://127.0.0.1:1/0", socket_connect_timeout=0.2
        ) as unreachable:
            sampling = sample_forever(unreachable, stream=STREAM, every_seconds=0.05)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sampling, timeout=1)

    asyncio.run(run())
    assert errors_counted() >= before + 2, "no failed sampling was counted"
    assert REGISTRY.get_sample_value("ingest_queue_oldest_message_age_seconds") == 42

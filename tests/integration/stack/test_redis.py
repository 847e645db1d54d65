"""The local Redis is a real server with Streams and consumer groups."""

from __future__ import annotations

import redis


def test_stream_round_trip_through_a_consumer_group(redis_url: str) -> None:
    with redis.Redis.from_url(redis_url, decode_responses=True) as conn:
        conn.xgroup_create("jobs", "workers", id="0", mkstream=True)
        message_id = conn.xadd("jobs", {"job_id": "42"})

        delivered = conn.xreadgroup("workers", "worker-1", {"jobs": ">"}, count=10)
        assert delivered == [["jobs", [(message_id, {"job_id": "42"})]]]

        # Delivered but not acknowledged: pending until XACK.
        assert conn.xpending("jobs", "workers")["pending"] == 1
        assert conn.xack("jobs", "workers", message_id) == 1
        assert conn.xpending("jobs", "workers")["pending"] == 0


def test_each_test_starts_with_an_empty_database(redis_url: str) -> None:
    with redis.Redis.from_url(redis_url) as conn:
        assert conn.dbsize() == 0

"""The age of the oldest message owed to the group, read from message ids alone."""

from __future__ import annotations

from ingest_api.queue.gauges import QueueSample, added_ms


def sample(undelivered: str | None, pending: str | None) -> QueueSample:
    return QueueSample(
        messages=3,
        undelivered=1,
        pending=1,
        dead_letters=0,
        oldest_undelivered_id=undelivered,
        oldest_pending_id=pending,
    )


def test_a_message_id_is_the_time_redis_added_it() -> None:
    assert added_ms("1700000000123-7") == 1_700_000_000_123


def test_the_oldest_of_undelivered_and_pending_counts() -> None:
    now = 1_700_000_060_000
    assert sample("1700000050000-0", "1700000000000-3").oldest_age_seconds(now) == 60.0
    assert sample("1700000000000-0", "1700000050000-0").oldest_age_seconds(now) == 60.0
    assert sample(None, "1700000030000-0").oldest_age_seconds(now) == 30.0
    assert sample("1700000059500-0", None).oldest_age_seconds(now) == 0.5


def test_nothing_owed_is_age_zero_and_a_clock_behind_redis_is_not_negative() -> None:
    assert sample(None, None).oldest_age_seconds(1_700_000_000_000) == 0.0
    assert sample("1700000000500-0", None).oldest_age_seconds(1_700_000_000_000) == 0.0

"""The well-known keys of key-value lines, taken a batch at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ingest_api.processing.formats.records import records_from_fields


def take(*objects: dict[str, Any]) -> list[tuple[str, datetime | None, str, dict[str, Any]]]:
    records = records_from_fields(range(1, len(objects) + 1), [dict(item) for item in objects])
    return [(record.level, record.timestamp, record.message, record.fields) for record in records]


def test_the_preferred_key_wins_and_the_others_stay_among_the_fields() -> None:
    assert take({"severity": "debug", "level": "error", "msg": "m", "message": "the message"}) == [
        ("error", None, "the message", {"severity": "debug", "msg": "m"})
    ]


def test_a_batch_that_agrees_on_a_less_preferred_key_is_read_all_the_same() -> None:
    rows = take(
        {"lvl": "info", "ts": 1709294400, "msg": "a"},
        {"lvl": "warn", "ts": 1709294401, "msg": "b"},
        {"level": "error", "lvl": "info", "timestamp": "2024-03-01T12:00:02Z", "message": "c"},
        {"msg": "d"},
    )

    assert rows == [
        ("info", datetime(2024, 3, 1, 12, tzinfo=UTC), "a", {}),
        ("warning", datetime(2024, 3, 1, 12, 0, 1, tzinfo=UTC), "b", {}),
        ("error", datetime(2024, 3, 1, 12, 0, 2, tzinfo=UTC), "c", {"lvl": "info"}),
        ("unknown", None, "d", {}),
    ]


def test_values_that_do_not_convert_stay_under_their_own_key() -> None:
    assert take({"level": None, "severity": "loud", "time": [1], "msg": 42}) == [
        ("unknown", None, "", {"level": None, "time": [1], "msg": 42, "severity": "loud"})
    ]

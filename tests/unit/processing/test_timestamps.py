"""Timestamps: every shape to aware UTC, and the year rule of RFC 3164."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingest_api.processing.formats.timestamps import (
    SyslogClock,
    clf_to_utc,
    epoch_to_utc,
    format_timestamp,
    iso_to_utc,
    timestamps_to_utc,
)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-01T12:00:00Z", utc(2024, 3, 1, 12)),
        ("2024-03-01T12:00:00.123456789Z", utc(2024, 3, 1, 12, 0, 0, 123456)),
        ("2024-03-01T14:30:00+02:30", utc(2024, 3, 1, 12)),
        ("2024-03-01T07:00:00-0500", utc(2024, 3, 1, 12)),
        ("2024-03-01 12:00:00,5", utc(2024, 3, 1, 12, 0, 0, 500000)),  # no zone: UTC
        ("2024-03-01", utc(2024, 3, 1)),
        ("1709294400", utc(2024, 3, 1, 12)),  # epoch seconds as a string
        ("yesterday", None),
        ("2024-02-30T00:00:00Z", None),
        ("", None),
    ],
)
def test_iso_strings(text: str, expected: datetime | None) -> None:
    assert iso_to_utc(text) == expected


@pytest.mark.parametrize(
    "value",
    [1709294400, 1709294400.0, 1709294400_000, 1709294400_000_000, 1709294400_000_000_000],
)
def test_epoch_numbers_in_any_unit(value: float) -> None:
    assert epoch_to_utc(value) == utc(2024, 3, 1, 12)


def test_epoch_fractions_and_nonsense() -> None:
    assert epoch_to_utc(1709294400_123) == utc(2024, 3, 1, 12, 0, 0, 123000)
    assert epoch_to_utc(float("nan")) is None
    assert epoch_to_utc(float("inf")) is None


def test_many_at_once_agree_with_one_by_one() -> None:
    uniform: list[object] = ["2024-03-01T12:00:00Z", "2024-03-01T12:00:01.5Z"]
    mixed: list[object] = ["2024-03-01T13:00:00+01:00", 1709294401, True, None, "soon", {"a": 1}]

    assert timestamps_to_utc(uniform) == [utc(2024, 3, 1, 12), utc(2024, 3, 1, 12, 0, 1, 500000)]
    assert timestamps_to_utc(mixed) == [
        utc(2024, 3, 1, 12),
        utc(2024, 3, 1, 12, 0, 1),
        None,  # JSON true is no timestamp, though bool is an int
        None,
        None,
        None,
    ]


def test_access_log_times() -> None:
    cache: dict[str, datetime | None] = {}

    assert clf_to_utc("10/Oct/2000:13:55:36 -0700", cache) == utc(2000, 10, 10, 20, 55, 36)
    assert clf_to_utc("10/Oct/2000:13:55:36 +0130", cache) == utc(2000, 10, 10, 12, 25, 36)
    assert clf_to_utc("31/Foo/2000:13:55:36 +0000", cache) is None
    assert clf_to_utc("31/Apr/2000:13:55:36 +0000", cache) is None


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("Mar  2 09:30:00", utc(2024, 3, 2, 9, 30)),  # the reference itself
        ("Mar  3 09:29:59", utc(2024, 3, 3, 9, 29, 59)),  # within a day after it
        ("Mar  3 09:30:01", utc(2023, 3, 3, 9, 30, 1)),  # past a day after it: last year
        ("Dec 31 23:59:59", utc(2023, 12, 31, 23, 59, 59)),
        ("Jan  1 00:00:00", utc(2024, 1, 1)),
        ("Feb 29 12:00:00", utc(2024, 2, 29, 12)),
        ("Feb 30 12:00:00", None),
        ("Foo  1 12:00:00", None),
    ],
)
def test_syslog_years_follow_the_reference_time(stamp: str, expected: datetime | None) -> None:
    assert SyslogClock(utc(2024, 3, 2, 9, 30)).to_utc(stamp) == expected


def test_syslog_29_february_goes_back_to_a_leap_year_only_if_it_is_the_year_before() -> None:
    assert SyslogClock(utc(2025, 3, 10)).to_utc("Feb 29 12:00:00") == utc(2024, 2, 29, 12)
    assert SyslogClock(utc(2026, 3, 10)).to_utc("Feb 29 12:00:00") is None


def test_a_naive_reference_time_is_taken_as_utc() -> None:
    naive = datetime(2024, 3, 2, 9, 30)
    assert SyslogClock(naive).to_utc("Mar  3 09:29:59") == utc(2024, 3, 3, 9, 29, 59)


def test_the_summary_writes_timestamps_as_records_do() -> None:
    assert format_timestamp(utc(2024, 3, 1, 12)) == "2024-03-01T12:00:00Z"
    assert format_timestamp(utc(2024, 3, 1, 12, 0, 0, 250000)) == "2024-03-01T12:00:00.250000Z"

"""Levels: names in any spelling, syslog and pino numbers, HTTP statuses."""

from __future__ import annotations

import pytest

from ingest_api.processing.formats.levels import (
    SYSLOG_SEVERITIES,
    level_from_http_status,
    level_from_value,
    levels_from_values,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("warn", "warning"),
        ("WARNING", "warning"),
        ("Warn", "warning"),
        (" wArN ", "warning"),
        ("fatal", "critical"),
        ("panic", "emergency"),
        ("err", "error"),
        ("informational", "info"),
        ("notice", "notice"),
        ("trace", "trace"),
        (3, "error"),  # syslog severity
        (7, "debug"),
        (30, "info"),  # pino
        (60, "critical"),
        (25, None),
        (True, None),  # a bool is no level, though it is an int
        (3.0, None),
        ("chatty", None),
        (None, None),
    ],
)
def test_level_values(value: object, expected: str | None) -> None:
    assert level_from_value(value) == expected


def test_many_at_once_agree_with_one_by_one() -> None:
    values: list[object] = ["info", "ERROR", 50, True, None, ["x"], "Loud"]

    assert levels_from_values(values) == [level_from_value(value) for value in values]
    assert levels_from_values(["info", "WARN"]) == ["info", "warning"]


def test_syslog_severities_in_order() -> None:
    assert SYSLOG_SEVERITIES == (
        "emergency",
        "alert",
        "critical",
        "error",
        "warning",
        "notice",
        "info",
        "debug",
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [(200, "info"), (304, "info"), (404, "warning"), (499, "warning"), (500, "error")],
)
def test_http_statuses(status: int, expected: str) -> None:
    assert level_from_http_status(status) == expected

"""Each format end to end: the exact summary, and the records written for it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ingest_api.processing import LevelName, Record
from tests.support.log_files import (
    ACCESS_LOG,
    ACCESS_LOG_SUMMARY,
    JSON_LINES,
    JSON_LINES_SUMMARY,
    LOGFMT,
    LOGFMT_SUMMARY,
    PLAIN_TEXT,
    PLAIN_TEXT_SUMMARY,
    SYSLOG_RFC3164,
    SYSLOG_RFC3164_SUMMARY,
    SYSLOG_RFC5424,
    SYSLOG_RFC5424_SUMMARY,
    process,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def record(
    line: int,
    timestamp: datetime | None,
    level: str,
    message: str,
    fields: dict[str, Any],
    *,
    parsed: bool = True,
) -> Record:
    return Record(line, timestamp, LevelName(level), message, fields, parsed=parsed)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(JSON_LINES, JSON_LINES_SUMMARY, id="json_lines"),
        pytest.param(LOGFMT, LOGFMT_SUMMARY, id="logfmt"),
        pytest.param(SYSLOG_RFC5424, SYSLOG_RFC5424_SUMMARY, id="syslog_rfc5424"),
        pytest.param(SYSLOG_RFC3164, SYSLOG_RFC3164_SUMMARY, id="syslog_rfc3164"),
        pytest.param(ACCESS_LOG, ACCESS_LOG_SUMMARY, id="access_log"),
        pytest.param(PLAIN_TEXT, PLAIN_TEXT_SUMMARY, id="plain_text"),
    ],
)
def test_each_format_gives_its_exact_summary(data: bytes, expected: dict[str, Any]) -> None:
    result = process(data)

    assert result.summary_dict == {**expected, "bytes_out": len(result.output)}


def test_json_lines_records() -> None:
    assert process(JSON_LINES).records == [
        record(1, at("2024-03-01T12:00:00.250Z"), "info", "server started", {"port": 8080}),
        record(2, at("2024-03-01T12:00:00Z"), "warning", "disk full", {"disk": {"p": 9}}),
        record(4, at("2024-03-01T12:00:05Z"), "error", "upload failed", {"job": "j-1"}),
        record(5, None, "unknown", "this is not json", {}, parsed=False),
        record(6, at("2024-03-01T12:00:10Z"), "error", "retry failed", {"attempt": 3}),
        # A value that is no timestamp stays among the fields, under its own key.
        record(7, None, "debug", "no time here", {"time": "yesterday"}),
        record(8, None, "unknown", "[1, 2, 3]", {}, parsed=False),
    ]


def test_logfmt_records() -> None:
    assert process(LOGFMT).records == [
        record(1, at("2024-03-01T12:00:00Z"), "info", "server started", {"port": "8080"}),
        record(
            2,
            at("2024-03-01T12:00:01.5Z"),
            "warning",
            "slow",
            {"path": "/v1/jobs", "duration": "2.5s"},
        ),
        record(3, at("2024-03-01T11:59:59Z"), "error", 'db "primary" down', {"retry": True}),
        record(4, None, "debug", "tick", {"empty": ""}),
        record(5, None, "unknown", "just some words", {}, parsed=False),
        record(7, at("2024-03-01T12:00:03Z"), "unknown", "x=1", {"level": "chatty"}),
    ]


def test_syslog_rfc5424_records() -> None:
    records = process(SYSLOG_RFC5424).records

    assert records[0] == record(
        1,
        at("2003-10-11T22:14:15.003Z"),
        "notice",
        "An event",
        {
            "facility": "local4",
            "hostname": "mymachine.example.com",
            "app_name": "evntslog",
            "procid": None,
            "msgid": "ID47",
            "structured_data": {
                "exampleSDID@32473": {"iut": "3", "eventSource": "App]lication"},
                "examplePriority@32473": {"class": "high"},
            },
        },
    )
    assert records[2].timestamp == at("2003-08-24T05:14:15.000003-07:00")
    assert records[3] == record(
        4,
        None,
        "error",
        "",
        {
            "facility": "user",
            "hostname": "host",
            "app_name": "app",
            "procid": None,
            "msgid": None,
            "structured_data": None,
        },
    )
    assert [record.parsed for record in records] == [True, True, True, True, False, False]


def test_syslog_rfc3164_records() -> None:
    records = process(SYSLOG_RFC3164).records

    assert records[1] == record(
        2,
        at("2024-02-05T17:32:18Z"),
        "notice",
        "Use the BFG!",
        {"facility": "user", "hostname": "10.0.0.99", "app_name": "myapp", "procid": "1234"},
    )
    # Without a PRI there is no facility and no level.
    assert records[2] == record(
        3,
        at("2024-03-01T12:00:00Z"),
        "unknown",
        "(root) CMD (run-parts /etc/cron.hourly)",
        {"hostname": "host", "app_name": "cron", "procid": "42"},
    )
    assert [record.timestamp for record in records[3:6]] == [
        at("2023-12-31T23:59:59Z"),
        at("2024-03-03T09:00:00Z"),
        at("2023-03-04T09:00:00Z"),
    ]


def test_access_log_records() -> None:
    records = process(ACCESS_LOG).records

    assert records[0] == record(
        1,
        at("2000-10-10T13:55:36-07:00"),
        "info",
        "GET /apache_pb.gif HTTP/1.0",
        {
            "remote_addr": "127.0.0.1",
            "ident": None,
            "user": "frank",
            "method": "GET",
            "path": "/apache_pb.gif",
            "protocol": "HTTP/1.0",
            "status": 200,
            "bytes": 2326,
            "referer": "http://www.example.com/start.html",
            "user_agent": "Mozilla/4.08 [en] (Win98; I ;Nav)",
        },
    )
    assert records[1].fields["bytes"] is None
    assert records[2].fields["user_agent"] is None  # the Common Log Format has none
    assert records[3].fields["method"] is None  # not an HTTP request line
    assert records[3].fields["extra"] == "0.001"


def test_plain_text_records() -> None:
    assert process(PLAIN_TEXT).records == [
        record(1, at("2024-03-01T12:00:00.123Z"), "error", "something broke", {}),
        record(2, at("2024-03-01T12:00:01Z"), "warning", "careful now", {}),
        record(3, None, "unknown", "Error handling is fine here", {}),
        record(4, None, "info", "started", {}),
        record(6, None, "unknown", "just a line", {}),
    ]

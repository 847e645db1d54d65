"""Syslog lines at the edges of the shortcuts the parsers take: the one-element
structured data read by the line's own match, the tag read in the same match
as the header, and timestamps converted without leaving C."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from ingest_api.processing.formats.syslog import Rfc3164Parser, Rfc5424Parser
from ingest_api.processing.models import Record
from ingest_api.processing.splitting import LineBatch

REFERENCE_TIME = datetime(2024, 3, 2, 9, 30, tzinfo=UTC)


def batch(*texts: str) -> LineBatch:
    return LineBatch(1, [text.encode() for text in texts], frozenset())


def rfc5424(*texts: str) -> list[Record]:
    return Rfc5424Parser().parse(batch(*texts))


def rfc3164(*texts: str) -> list[Record]:
    return Rfc3164Parser(reference_time=REFERENCE_TIME).parse(batch(*texts))


def structured_data(line: str) -> Any:
    (record,) = rfc5424(line)
    assert record.parsed
    return record.fields["structured_data"]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param('[a k="v" k2=""]', {"a": {"k": "v", "k2": ""}}, id="one element"),
        pytest.param("[a]", {"a": {}}, id="no parameters"),
        pytest.param('[a k="1" k="2"]', {"a": {"k": "2"}}, id="the last of a name wins"),
        pytest.param('[a k="x]y[z"]', {"a": {"k": "x]y[z"}}, id="brackets in a value"),
        pytest.param('[a k="1"][b j="2"]', {"a": {"k": "1"}, "b": {"j": "2"}}, id="two elements"),
        pytest.param('[a k="1"][a k="2"]', {"a": {"k": "2"}}, id="the last of an id wins"),
        pytest.param('[a k="q\\"\\]\\\\"]', {"a": {"k": 'q"]\\'}}, id="escapes undone"),
        # No whitespace, Unicode's included, may be part of an id or a name:
        # a no-break space ends the id, and the text after it is no parameter.
        pytest.param('[a\u00a0x k="1"]', {"a": {"k": "1"}}, id="no-break space in the id"),
        pytest.param('[a x\u00a0k="1"]', {"a": {"k": "1"}}, id="no-break space in a name"),
        pytest.param('[a k=1 j="2"]', {"a": {"j": "2"}}, id="an unquoted value is skipped"),
    ],
)
def test_structured_data(data: str, expected: Any) -> None:
    assert structured_data(f"<14>1 - host app - - {data} message") == expected
    assert structured_data(f"<14>1 - host app - - {data}") == expected


def test_structured_data_must_be_followed_by_a_space_or_the_end() -> None:
    (record,) = rfc5424('<14>1 - host app - - [a k="1"]message')

    assert not record.parsed


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2024-03-01T12:00:00.250Z", datetime(2024, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)),
        ("2024-03-01T14:00:00+02:00", datetime(2024, 3, 1, 12, tzinfo=UTC)),
        ("2024-03-01T12:00:00", datetime(2024, 3, 1, 12, tzinfo=UTC)),  # no zone: UTC
        ("1709294400", datetime(2024, 3, 1, 12, tzinfo=UTC)),  # epoch seconds
        ("-", None),
    ],
)
def test_rfc5424_timestamps(stamp: str, expected: datetime | None) -> None:
    (record,) = rfc5424(f"<14>1 {stamp} host app - - - message")

    assert record.parsed
    assert record.timestamp == expected


def test_consecutive_lines_keep_their_own_timestamps() -> None:
    records = rfc3164(
        "<14>Mar  1 12:00:00 host app: a",
        "<14>Mar  1 12:00:00 host app: b",
        "<14>Mar  1 12:00:01 host app: c",
        "<14>Mar  1 12:00:00 host app: d",
    )

    assert [record.timestamp.second if record.timestamp else None for record in records] == [
        0,
        0,
        1,
        0,
    ]


@pytest.mark.parametrize(
    ("rest", "app_name", "procid", "message"),
    [
        ("su: failed", "su", None, "failed"),
        ("sshd[42]: accepted", "sshd", "42", "accepted"),
        ("app[1:2]:no space", "app", "1:2", "no space"),
        ("app[]:  two spaces", "app", "", " two spaces"),
        ("no tag here", None, None, "no tag here"),
        ("app[1 2]: a space in the pid", None, None, "app[1 2]: a space in the pid"),
        # A no-break space is whitespace to the tag, so it is no app name.
        ("a\u00a0b: c", None, None, "a\u00a0b: c"),
        ("", None, None, ""),
    ],
)
def test_rfc3164_tags(rest: str, app_name: str | None, procid: str | None, message: str) -> None:
    (record,) = rfc3164(f"<14>Mar  1 12:00:00 host {rest}")

    assert record.parsed
    assert (record.fields["app_name"], record.fields["procid"], record.message) == (
        app_name,
        procid,
        message,
    )


def test_blank_lines_are_skipped_and_other_lines_kept_whole() -> None:
    for parse in (rfc5424, rfc3164):
        records = parse("", "   ", "not syslog")

        assert [(record.line, record.message, record.parsed) for record in records] == [
            (3, "not syslog", False)
        ]


@pytest.mark.parametrize(
    ("pri", "level", "facility"),
    [
        ("0", "emergency", "kern"),
        ("007", "debug", "kern"),
        ("014", "info", "user"),
        ("191", "debug", "local7"),
        ("192", None, None),
        ("0191", None, None),
    ],
)
def test_priorities_with_and_without_leading_zeros(
    pri: str, level: str | None, facility: str | None
) -> None:
    for (record,) in (
        rfc5424(f"<{pri}>1 - host app - - - message"),
        rfc3164(f"<{pri}>Mar  1 12:00:00 host app: message"),
    ):
        if level is None:
            assert not record.parsed
        else:
            assert (record.level, record.fields["facility"]) == (level, facility)

"""Format detection from the first lines."""

from __future__ import annotations

import pytest

from ingest_api.processing import LogFormat
from ingest_api.processing.detecting import detect_format
from tests.support.log_files import (
    ACCESS_LOG,
    JSON_LINES,
    LOGFMT,
    PLAIN_TEXT,
    SYSLOG_RFC3164,
    SYSLOG_RFC5424,
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (JSON_LINES, LogFormat.JSON_LINES),
        (LOGFMT, LogFormat.LOGFMT),
        (SYSLOG_RFC5424, LogFormat.SYSLOG_RFC5424),
        (SYSLOG_RFC3164, LogFormat.SYSLOG_RFC3164),
        (ACCESS_LOG, LogFormat.ACCESS_LOG),
        (PLAIN_TEXT, LogFormat.PLAIN_TEXT),
    ],
)
def test_each_sample_is_told_apart(data: bytes, expected: LogFormat) -> None:
    assert detect_format(data.decode().splitlines()) is expected


def test_a_banner_does_not_outvote_the_lines_after_it() -> None:
    lines = ["=== service starting ===", *['{"level":"info","msg":"ok"}'] * 9]
    assert detect_format(lines) is LogFormat.JSON_LINES


def test_a_mix_without_a_clear_majority_is_plain_text() -> None:
    lines = ['{"level":"info"}', "a=1 b=2", "prose", "more prose", '{"level":"warn"}']
    assert detect_format(lines) is LogFormat.PLAIN_TEXT


def test_one_equals_sign_in_prose_is_not_logfmt() -> None:
    assert detect_format(["retrying with timeout=5 seconds"] * 5) is LogFormat.PLAIN_TEXT


def test_blank_lines_do_not_count_and_none_at_all_is_plain_text() -> None:
    assert detect_format(["", "  ", '{"a":1}', ""]) is LogFormat.JSON_LINES
    assert detect_format(["", "   "]) is LogFormat.PLAIN_TEXT


def test_a_syslog_file_without_priorities_is_rfc_3164() -> None:
    lines = [f"Mar  1 12:00:0{n} host sshd[42]: Accepted publickey for deploy" for n in range(5)]
    assert detect_format(lines) is LogFormat.SYSLOG_RFC3164

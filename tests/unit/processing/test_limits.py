"""Limits: an overlong line is cut and counted, too much data fails the file."""

from __future__ import annotations

import msgspec
import pytest

from ingest_api.processing import LimitExceeded, Limits
from tests.support.log_files import chunked, gzipped, lines, process


def test_an_overlong_line_is_cut_counted_and_marked() -> None:
    data = lines("short one", "x" * 250, "short two")

    result = process(data, limits=Limits(max_line_bytes=100))

    assert result.summary.lines == 3
    assert result.summary.truncated_lines == 1
    assert [record.truncated for record in result.records] == [False, True, False]
    assert result.records[1].message == "x" * 100


def test_a_line_longer_than_a_block_holds_only_its_kept_start() -> None:
    huge = '{"level":"error","msg":"' + "y" * 3_000_000 + '"}'
    data = lines('{"level":"info","msg":"before"}', huge, '{"level":"info","msg":"after"}')

    result = process(chunked(gzipped(data), 64 * 1024), limits=Limits(max_line_bytes=1000))

    assert result.summary.lines == 3
    assert result.summary.truncated_lines == 1
    cut = result.records[1]
    assert (cut.line, cut.truncated, cut.parsed) == (2, True, False)  # no longer valid JSON
    assert cut.message == huge[:1000]
    assert [record.message for record in (result.records[0], result.records[2])] == [
        "before",
        "after",
    ]


def test_a_cut_line_that_still_parses_keeps_its_fields() -> None:
    data = lines("2024-03-01T12:00:00Z ERROR " + "z" * 200)

    (record,) = process(data, limits=Limits(max_line_bytes=50)).records

    assert (record.level, record.parsed, record.truncated) == ("error", True, True)
    assert record.message == "z" * (50 - len("2024-03-01T12:00:00Z ERROR "))


def test_a_multibyte_character_cut_in_two_does_not_fail_the_line() -> None:
    data = lines("é" * 100)  # 200 bytes

    (record,) = process(data, limits=Limits(max_line_bytes=51)).records

    assert record.message == "é" * 25 + "\ufffd"


def test_too_much_decompressed_data_fails_the_file() -> None:
    data = gzipped(lines(*[msgspec.json.encode({"n": n}).decode() for n in range(10_000)]))

    with pytest.raises(LimitExceeded, match="decompresses to more than 50,000 bytes") as error:
        process(data, limits=Limits(max_decompressed_bytes=50_000))
    assert error.value.code == "limit_exceeded"


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        Limits(max_line_bytes=0)

"""Every file of the hostile corpus gives a summary or its ProcessingError,
fast, and whatever it gives can be stored: the summary and every output
record are JSON that PostgreSQL's jsonb accepts."""

from __future__ import annotations

import gzip
import hashlib
import time

import msgspec
import pytest

from ingest_api.processing import ChecksumMismatch, Limits, ProcessingError
from tests.support.hostile_files import HOSTILE_FILES, HostileFile, hostile_file
from tests.support.log_files import gzipped, lines, process
from tests.support.storable import assert_storable

# A hostile file is dealt with in about the time its size takes, never in
# minutes: generous, since a shared machine is noisy; the bug it guards
# against (a retry loop, a quadratic parse) costs far more.
MAX_SECONDS = 20.0


@pytest.mark.parametrize("case", HOSTILE_FILES, ids=lambda case: case.name)
def test_a_hostile_file_gives_a_summary_or_its_processing_error(case: HostileFile) -> None:
    started = time.monotonic()
    if case.code is not None:
        with pytest.raises(ProcessingError) as error:
            process(case.data)
        assert (error.value.code, bool(error.value.reason)) == (case.code, True)
    else:
        result = process(case.data)
        summary = result.summary_dict
        assert summary["lines"] == (
            summary["parsed_lines"] + summary["unparsed_lines"] + summary["blank_lines"]
        )
        assert_storable(summary)
        output = gzip.decompress(result.output)
        output.decode("utf-8")  # strict: no surrogate made it into the file
        assert b"\\u0000" not in output
        for line in output.splitlines():
            assert_storable(msgspec.json.decode(line))
    assert time.monotonic() - started < MAX_SECONDS


def test_a_timestamp_out_of_range_leaves_the_line_parsed_without_a_time() -> None:
    result = process(hostile_file("json-year-9999-west").data)

    record = result.records[0]
    assert (record.parsed, record.timestamp) == (True, None)
    assert record.fields["ts"] == "9999-12-31T23:59:59-01:00"  # kept as the line said


def test_nesting_past_the_recursion_limit_makes_that_line_unparsed_and_sampled() -> None:
    good = lines(*['{"level":"info","msg":"before"}'] * 6)
    data = good + hostile_file("json-nested-5000-deep").data

    result = process(data)

    assert result.summary.format == "json_lines"
    assert result.summary.unparsed_lines == 3
    assert [sample.line for sample in result.summary.unparsed_samples] == [7, 8, 9]
    assert result.records[0].message == "before"


def test_a_nul_past_the_sniffed_start_is_replaced_in_the_sample() -> None:
    summary = process(hostile_file("nul-after-64k").data).summary_dict

    [sample] = summary["samples"]
    assert sample == {"line": 9001, "text": "ERROR bad \ufffd byte"}


def test_nul_and_lone_surrogates_are_replaced_in_the_output_records() -> None:
    records = process(hostile_file("json-nul-and-surrogate-escapes").data).records

    assert records[0].message == "a\ufffdb"
    assert records[0].fields == {"k\ufffd": "\ufffd"}
    # msgspec refuses lone surrogates outright: that line is unparsed, whole.
    assert (records[1].parsed, records[1].message) == (False, records[1].message)
    assert records[2].message == "\U0001f600 a pair is fine"


@pytest.mark.parametrize("name", ["gzip-bomb", "zstd-bomb"])
def test_a_decompression_bomb_fails_on_its_ratio_long_before_the_size_limit(name: str) -> None:
    with pytest.raises(ProcessingError, match="expands more than 200 times") as error:
        process(hostile_file(name).data)
    assert error.value.code == "limit_exceeded"


def test_a_file_that_compresses_very_well_but_stays_small_is_not_a_bomb() -> None:
    data = gzipped(b"INFO the same line again\n" * 1_000_000)  # 25 MB, about 400x

    assert process(data).summary.lines == 1_000_000


def test_a_higher_ratio_limit_lets_a_repetitive_file_through() -> None:
    data = hostile_file("gzip-bomb").data

    summary = process(data, limits=Limits(max_compression_ratio=10_000)).summary

    assert summary.bytes_decompressed == 128 * 1024 * 1024


def test_processing_longer_than_the_time_limit_fails_the_file() -> None:
    data = lines(*[f'{{"level":"info","msg":"line {n}"}}' for n in range(200_000)])

    with pytest.raises(ProcessingError, match=r"longer than 0\.001 seconds") as error:
        process(data, limits=Limits(max_seconds=0.001))
    assert error.value.code == "limit_exceeded"


def test_a_declared_sha256_is_verified_over_the_bytes_as_stored() -> None:
    data = gzipped(lines("INFO a", "ERROR b"))

    good = process(data, expected_sha256=hashlib.sha256(data).hexdigest())
    assert good.summary.lines == 2
    with pytest.raises(ChecksumMismatch) as error:
        process(data, expected_sha256=hashlib.sha256(b"other").hexdigest())
    assert error.value.code == "checksum_mismatch"
    assert hashlib.sha256(data).hexdigest() in error.value.reason

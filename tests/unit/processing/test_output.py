"""The output: gzip NDJSON, byte-identical however often and however the input
arrives, handed over in parts big enough for an S3 multipart upload."""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime

import msgspec
import pytest

from ingest_api.processing import LevelName, Record
from ingest_api.processing.writing import SLICE_BYTES, GzipNdjsonWriter
from tests.support.log_files import (
    JSON_LINES,
    chunked,
    gzipped,
    many_json_lines,
    process,
    zstd_compressed,
)

MANY = many_json_lines(30_000)  # several MiB of NDJSON out: several slices and parts


def test_processing_twice_gives_the_same_bytes() -> None:
    first, second = process(gzipped(MANY)), process(gzipped(MANY))

    assert len(gzip.decompress(first.output)) > 3 * SLICE_BYTES
    assert first.output == second.output
    assert first.summary == second.summary


@pytest.mark.parametrize("chunk_bytes", [1000, 77_777, 3_000_000])
def test_the_bytes_do_not_depend_on_how_the_input_arrives(chunk_bytes: int) -> None:
    reference = process(gzipped(MANY)).output

    assert process(chunked(gzipped(MANY), chunk_bytes)).output == reference
    assert process(chunked(gzipped(MANY, members=5), chunk_bytes)).output == reference
    assert process(chunked(zstd_compressed(MANY), chunk_bytes)).output == reference
    assert process(chunked(MANY, chunk_bytes)).output == reference


def test_the_gzip_header_carries_no_time_or_name() -> None:
    output = process(JSON_LINES).output

    assert output[:4] == b"\x1f\x8b\x08\x00"  # gzip, deflate, no name, no comment
    assert output[4:8] == bytes(4)  # modification time 0


def test_each_line_of_the_output_is_one_record_as_json() -> None:
    output_lines = gzip.decompress(process(JSON_LINES).output).splitlines()

    assert msgspec.json.decode(output_lines[0]) == {
        "line": 1,
        "timestamp": "2024-03-01T12:00:00.250000Z",
        "level": "info",
        "message": "server started",
        "fields": {"port": 8080},
    }
    assert msgspec.json.decode(output_lines[3])["parsed"] is False  # flags only when not usual
    assert len(output_lines) == 7  # the blank line has no record


def record(line: int) -> Record:
    noise = hashlib.shake_256(str(line).encode()).hexdigest(300)  # compresses about 2:1
    return Record(line, datetime(2024, 3, 1, tzinfo=UTC), LevelName("info"), noise, {"n": line})


def test_the_writer_sends_parts_of_at_least_the_part_size() -> None:
    parts: list[bytes] = []
    writer = GzipNdjsonWriter(parts.append, part_bytes=20_000)
    batches = [[record(line) for line in range(start, start + 1000)] for start in (0, 1000, 2000)]

    for batch in batches:
        writer.write(batch)
    writer.close()

    assert len(parts) > 1
    assert all(len(part) >= 20_000 for part in parts[:-1])
    assert writer.bytes_out == sum(map(len, parts))
    written = msgspec.json.Decoder(Record).decode_lines(gzip.decompress(b"".join(parts)))
    assert written == [item for batch in batches for item in batch]

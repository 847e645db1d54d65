"""Compression read from the magic bytes: the same summary whatever the wrapping,
and a clear reason for every archive that cannot be read."""

from __future__ import annotations

import io
import zipfile

import pytest

from ingest_api.processing import CorruptInput, UnsupportedInput
from tests.support.log_files import (
    JSON_LINES,
    JSON_LINES_SUMMARY,
    chunked,
    gzipped,
    many_json_lines,
    process,
    zstd_compressed,
)


@pytest.mark.parametrize(
    ("compressed", "compression"),
    [
        pytest.param(gzipped(JSON_LINES), "gzip", id="gzip"),
        pytest.param(gzipped(JSON_LINES, members=3), "gzip", id="gzip-multi-member"),
        pytest.param(zstd_compressed(JSON_LINES), "zstd", id="zstd"),
        pytest.param(zstd_compressed(JSON_LINES, frames=3), "zstd", id="zstd-multi-frame"),
        pytest.param(JSON_LINES, "none", id="none"),
    ],
)
def test_each_compression_gives_the_exact_summary(compressed: bytes, compression: str) -> None:
    result = process(compressed)

    assert result.summary_dict == {
        **JSON_LINES_SUMMARY,
        "compression": compression,
        "bytes_in": len(compressed),
        "bytes_out": len(result.output),
    }


def test_multi_member_gzip_gives_every_member_even_when_members_cut_lines() -> None:
    data = many_json_lines(20_000)  # several MiB: members and blocks cut lines anywhere

    whole = process(gzipped(data))
    members = process(gzipped(data, members=7))

    assert members.summary.lines == whole.summary.lines == 20_000
    assert members.summary.unparsed_lines == 0
    assert members.records == whole.records


def test_a_source_in_tiny_chunks_reads_the_same() -> None:
    compressed = gzipped(JSON_LINES, members=2)

    assert process(chunked(compressed, 3)).records == process(compressed).records


def flip_byte(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1 :]


def test_corrupt_gzip_fails_with_where() -> None:
    compressed = gzipped(many_json_lines(2_000))

    with pytest.raises(CorruptInput, match=r"^gzip stream is corrupt after byte [\d,]+: ") as error:
        process(flip_byte(compressed, len(compressed) // 2))
    assert error.value.code == "corrupt_input"


def test_gzip_with_a_wrong_checksum_fails() -> None:
    compressed = gzipped(JSON_LINES)

    with pytest.raises(CorruptInput, match="gzip stream is corrupt"):
        process(flip_byte(compressed, len(compressed) - 6))  # inside the CRC-32


def test_truncated_gzip_fails_as_cut_short() -> None:
    compressed = gzipped(many_json_lines(2_000))

    with pytest.raises(CorruptInput, match="gzip stream is truncated: it ends at byte 5,000 "):
        process(compressed[:5000])


def test_garbage_after_the_gzip_stream_fails() -> None:
    with pytest.raises(CorruptInput, match="gzip stream is corrupt after byte"):
        process(gzipped(JSON_LINES) + b"trailing text")


def test_zero_padding_after_the_gzip_stream_is_ignored() -> None:
    assert process(gzipped(JSON_LINES) + bytes(512)).summary.lines == 8


def test_corrupt_zstd_fails_with_where() -> None:
    compressed = zstd_compressed(many_json_lines(2_000))

    with pytest.raises(CorruptInput, match=r"^zstd stream is corrupt after byte [\d,]+: "):
        process(flip_byte(compressed, len(compressed) // 2))


def test_truncated_zstd_fails_as_cut_short() -> None:
    compressed = zstd_compressed(many_json_lines(2_000))

    with pytest.raises(CorruptInput, match="zstd stream is truncated: it ends at byte 5,000 "):
        process(compressed[:5000])


def test_a_zip_archive_is_refused_by_name() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("app.log", JSON_LINES)

    with pytest.raises(UnsupportedInput, match="the file is a zip archive, which is not supported"):
        process(archive.getvalue())


def test_bzip2_is_refused_but_text_starting_with_bzh_is_not() -> None:
    with pytest.raises(UnsupportedInput, match="bzip2-compressed"):
        process(b"BZh91AY&SY" + bytes(40))

    assert process(b"BZh is how my log starts\n").summary.lines == 1


def test_zero_padding_after_a_zstd_stream_is_ignored_but_not_other_bytes() -> None:
    compressed = zstd_compressed(JSON_LINES)

    assert process(compressed + bytes(100)).summary.lines == 8
    with pytest.raises(CorruptInput, match="unexpected data after the end"):
        process(compressed + bytes(10) + b"junk")

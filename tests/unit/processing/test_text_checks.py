"""Content that is not a text log is refused early, with a reason to act on."""

from __future__ import annotations

import hashlib
import io
import tarfile

import pytest

from ingest_api.processing import NotText
from tests.support.log_files import gzipped, lines, process


def test_random_bytes_are_binary() -> None:
    noise = hashlib.shake_256(b"noise").digest(100_000).replace(b"\x00", b"\x01")

    with pytest.raises(NotText, match=r"binary, not a text log: [\d,]+ of its first [\d,]+ char"):
        process(noise)


def test_nul_bytes_are_binary_even_inside_gzip() -> None:
    image = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)

    with pytest.raises(NotText, match=r"contains NUL bytes \(the first at byte 8 "):
        process(gzipped(image))


def test_utf16_is_named_so_it_can_be_converted() -> None:
    text = "2024-03-01 12:00:00 INFO started\n" * 20

    with pytest.raises(NotText, match="UTF-16 text; convert it to UTF-8"):
        process(text.encode("utf-16"))  # with a byte order mark
    with pytest.raises(NotText, match="UTF-16"):
        process(text.encode("utf-16-le"))  # without one


def test_a_tar_archive_is_named() -> None:
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        content = lines("a line")
        member = tarfile.TarInfo("app.log")
        member.size = len(content)
        tar.addfile(member, io.BytesIO(content))

    with pytest.raises(NotText, match="tar archive: upload the log files inside it"):
        process(gzipped(archive.getvalue()))


def test_legacy_8_bit_text_is_still_text() -> None:
    latin1 = "2024-03-01 12:00:00 WARN déjà vu à la réception\n".encode("latin-1") * 50

    result = process(latin1)

    assert result.summary.parsed_lines == 50
    assert result.records[0].message == "d\ufffdj\ufffd vu \ufffd la r\ufffdception"


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_line() -> None:
    result = process(b"\xef\xbb\xbf" + lines('{"level":"info","msg":"first"}'))

    assert result.summary.format == "json_lines"
    assert result.records[0].message == "first"


def test_an_empty_file_is_an_empty_result() -> None:
    result = process(b"")

    assert result.summary_dict == {
        "format": "plain_text",
        "compression": "none",
        "bytes_in": 0,
        "bytes_decompressed": 0,
        "bytes_out": len(result.output),
        "lines": 0,
        "parsed_lines": 0,
        "unparsed_lines": 0,
        "blank_lines": 0,
        "truncated_lines": 0,
        "levels": {},
        "first_timestamp": None,
        "last_timestamp": None,
        "highest_level": None,
        "samples": [],
        "unparsed_samples": [],
    }
    assert result.records == []

"""Refuse a file that is not text, early and with a reason, before parsing it.

Only the start of the decompressed content is examined: binary formats show
themselves at once (NUL bytes, undecodable bytes, control characters), and a
log does not turn binary half-way. A few cases get a sharper reason, since
the person can fix them: UTF-16 text (convert to UTF-8) and tar archives
(upload the files inside).
"""

from __future__ import annotations

from ingest_api.processing.errors import NotText

# Enough to see any binary format's header and a few hundred lines of a log.
SNIFF_BYTES = 64 * 1024
# Share of undecodable bytes and control characters tolerated in the sample:
# a log in a legacy 8-bit encoding (accents in Latin-1) stays far below it,
# compressed or binary data lands far above it.
MAX_SUSPICIOUS_SHARE = 0.10

UTF8_BOM = b"\xef\xbb\xbf"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")

# Control characters that text does not contain (tab, line feed, vertical tab,
# form feed, carriage return and escape, for coloured output, do), and the
# replacement character that stands for each undecodable byte.
_SUSPICIOUS = {code: None for code in (*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20))}
_SUSPICIOUS[0xFFFD] = None


def check_text(sample: bytes) -> None:
    """Raise NotText unless the start of the decompressed content looks like text."""
    head = sample[:SNIFF_BYTES]
    if head.startswith(_UTF16_BOMS) or _looks_like_utf16(head):
        raise NotText(
            "the file is UTF-16 text; convert it to UTF-8 "
            "(for example `iconv -f UTF-16 -t UTF-8`) and upload it again"
        )
    if head[257:262] == b"ustar":
        raise NotText("the file is a tar archive: upload the log files inside it one by one")
    if 0 in head:
        raise NotText(
            "the file is binary, not a text log: it contains NUL bytes "
            f"(the first at byte {head.index(0):,} of the decompressed content)"
        )
    text = head.decode("utf-8", "replace")
    suspicious = len(text) - len(text.translate(_SUSPICIOUS))
    if text and suspicious / len(text) > MAX_SUSPICIOUS_SHARE:
        raise NotText(
            "the file is binary, not a text log: "
            f"{suspicious:,} of its first {len(text):,} characters are not valid UTF-8 text"
        )


def strip_bom(block: bytes) -> bytes:
    """The first block without a UTF-8 byte order mark, which is not part of the first line."""
    return block[len(UTF8_BOM) :] if block.startswith(UTF8_BOM) else block


def _looks_like_utf16(head: bytes) -> bool:
    # UTF-16 text mostly in ASCII has NUL in every other byte and almost
    # nowhere else; binary data with NULs has them on both sides.
    if len(head) < 16:
        return False
    sides = len(head) // 2
    even, odd = head[0::2].count(0) / sides, head[1::2].count(0) / sides
    return max(even, odd) > 0.5 and min(even, odd) < 0.05

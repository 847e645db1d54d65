"""A corpus of hostile uploads: files an uploader can craft to break a worker.

Each case is a file and what processing it must give: a summary (the odd
lines are unparsed or keep their raw fields), or a `ProcessingError` with
its stable code, never anything else. They come from the security review
(H1, H2, M7: timestamps out of range, digits past `int()`'s limit, nesting
past the recursion limit, a NUL after the sniffed start, decompression
bombs) and from hunting around them (escapes, separators, truncations).
Built in code rather than stored: a bomb is megabytes of nothing.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import dataclass

from backports import zstd

from tests.support.log_files import gzipped, lines

# The unit of the bombs: a megabyte of spaces and newlines, text that
# passes every check on the way and compresses about a thousand times.
_BOMB_BLOCK = (b" " * 1023 + b"\n") * 1024


@dataclass(frozen=True)
class HostileFile:
    name: str
    data: bytes
    # None: processing gives a summary; else the ProcessingError code it raises.
    code: str | None = None
    # The content type a client would declare for it.
    content_type: str = "text/plain"


def gzip_bomb(megabytes: int) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [compressor.compress(_BOMB_BLOCK) for _ in range(megabytes)]
    return b"".join([*parts, compressor.flush()])


def zstd_bomb(megabytes: int) -> bytes:
    compressor = zstd.ZstdCompressor(level=3)
    parts = [compressor.compress(_BOMB_BLOCK) for _ in range(megabytes)]
    return b"".join([*parts, compressor.flush()])


def nested_json(depth: int) -> str:
    return '{"a":' + "[" * depth + "]" * depth + "}"


HOSTILE_FILES: tuple[HostileFile, ...] = (
    # H1: moments that exist in their zone but not in UTC (year 0, year 10000).
    HostileFile("plain-year-one-east", lines("INFO fine", "0001-01-01T00:00:00+01:00 boom")),
    HostileFile("json-year-9999-west", lines('{"ts":"9999-12-31T23:59:59-01:00","msg":"x"}') * 3),
    HostileFile(
        "access-log-year-one",
        lines('1.2.3.4 - - [01/Jan/0001:00:00:00 +0100] "GET / HTTP/1.1" 200 1') * 3,
    ),
    HostileFile(
        "syslog5424-year-one",
        lines("<34>1 0001-01-01T00:00:00+01:00 host app - - - boom") * 3,
    ),
    HostileFile("logfmt-year-one", lines("ts=0001-01-01T00:00:00+01:00 level=info msg=x") * 3),
    # H1: 5,000 digits: int() refuses past 4,300 (and is quadratic before).
    HostileFile("json-time-of-5000-digits", lines('{"time":"' + "7" * 5000 + '"}') * 3),
    HostileFile("plain-5000-digits", lines("7" * 5000)),
    # H1: nesting past the recursion limit, within a line and past its cut.
    HostileFile("json-nested-5000-deep", lines(nested_json(5000)) * 3),
    HostileFile("json-nested-100000-deep", lines(nested_json(100_000))),
    # Numbers JSON allows and Python's types do not.
    HostileFile(
        "json-huge-numbers",
        lines(
            '{"level":1e999,"ts":1e308,"msg":"x"}',
            '{"level":' + "9" * 400 + ',"time":-' + "9" * 30 + ',"msg":"y"}',
            '{"ts":NaN,"msg":"z"}',
        ),
    ),
    # H2: a NUL past the sniffed first 64 KiB, in the one line that becomes a sample.
    HostileFile("nul-after-64k", b"INFO ok\n" * 9000 + b"ERROR bad \x00 byte\n"),
    # NUL and lone surrogates as JSON escapes, in values and keys.
    HostileFile(
        "json-nul-and-surrogate-escapes",
        lines(
            '{"level":"error","msg":"a\\u0000b","k\\u0000":"\\u0000"}',
            '{"level":"error","msg":"\\ud800 lone","x":"\\udfff"}',
            '{"level":"info","msg":"\\ud83d\\ude00 a pair is fine"}',
        ),
    ),
    HostileFile(
        "logfmt-broken-escapes",
        lines('level=info msg="\\x41\\u12" a=1', 'level=error msg="unterminated a=2', "k=v k2=v2"),
    ),
    HostileFile(
        "syslog5424-broken-structured-data",
        lines('<165>1 2003-10-11T22:14:15.003Z host app 1 ID [id k="v\\"] tail', "<0>1 - - - - - -")
        * 2,
    ),
    # Line ends that are not, lines that never end.
    HostileFile("carriage-returns-only", b"INFO a\rINFO b\r" * 50_000),
    HostileFile("one-line-of-10-mib", b"x" * (10 * 1024 * 1024)),
    HostileFile("newlines-only", b"\n" * (1024 * 1024)),
    HostileFile("separators-and-format-characters", "a\u2028b\u2029c\u202eexe.log\n".encode() * 3),
    HostileFile("invalid-utf8-after-the-start", b"INFO ok\n" * 9000 + b"ERROR \xff\xfe\xc0\x80\n"),
    # Whole-file problems: each has its code.
    HostileFile("binary", bytes(range(256)) * 64, code="not_text"),
    HostileFile(
        "truncated-gzip",
        gzipped(lines("INFO a") * 1000)[:-20],
        code="corrupt_input",
        content_type="application/gzip",
    ),
    HostileFile(
        "gzip-bomb", gzip_bomb(128), code="limit_exceeded", content_type="application/gzip"
    ),
    HostileFile(
        "zstd-bomb", zstd_bomb(128), code="limit_exceeded", content_type="application/zstd"
    ),
    HostileFile(
        "gzip-then-garbage",
        gzip.compress(b"INFO a\n", mtime=0) + b"garbage",
        code="corrupt_input",
        content_type="application/gzip",
    ),
    HostileFile("zip", b"PK\x03\x04" + b"\x00" * 100, code="unsupported_input"),
)


def hostile_file(name: str) -> HostileFile:
    return next(case for case in HOSTILE_FILES if case.name == name)

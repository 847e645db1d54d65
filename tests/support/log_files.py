"""Builders of log files for the processing tests: a small sample of each
format (with the summary it must give), compressors, and a runner that
processes bytes and decodes what was written.

Each sample mixes the cases a format meets in the wild: several timestamp
shapes and zones, every way of naming a level, a blank line, and lines the
format does not recognise.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
from backports import zstd

from ingest_api.processing import Limits, Record, Summary, process_stream

# RFC 3164 lines are dated against this (the upload time, in the worker).
REFERENCE_TIME = datetime(2024, 3, 2, 9, 30, tzinfo=UTC)

_read_records = msgspec.json.Decoder(Record).decode_lines


@dataclass(frozen=True)
class Processed:
    summary: Summary
    output: bytes
    parts: list[bytes] = field(repr=False)

    @property
    def records(self) -> list[Record]:
        return _read_records(gzip.decompress(self.output))

    @property
    def summary_dict(self) -> dict[str, Any]:
        return self.summary.to_dict()


def process(
    source: bytes | Iterable[bytes],
    *,
    limits: Limits | None = None,
    expected_sha256: str | None = None,
) -> Processed:
    """Run `process_stream` over bytes (as a file) or chunks (as an iterable)."""
    parts: list[bytes] = []
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    summary = process_stream(
        stream,
        parts.append,
        reference_time=REFERENCE_TIME,
        limits=limits or Limits(),
        expected_sha256=expected_sha256,
    )
    return Processed(summary, b"".join(parts), parts)


def lines(*texts: str) -> bytes:
    return "".join(f"{text}\n" for text in texts).encode()


def gzipped(data: bytes, *, members: int = 1) -> bytes:
    """gzip with no time in the header; `members` > 1 cuts the data anywhere
    (mid-line too) and concatenates one member per piece, as `cat a.gz b.gz` does."""
    step = max(1, -(-len(data) // members))
    pieces = [data[start : start + step] for start in range(0, len(data), step)] or [b""]
    return b"".join(gzip.compress(piece, mtime=0) for piece in pieces)


def zstd_compressed(data: bytes, *, frames: int = 1) -> bytes:
    """zstd with a content checksum in each frame, as the `zstd` tool writes it."""
    step = max(1, -(-len(data) // frames))
    pieces = [data[start : start + step] for start in range(0, len(data), step)] or [b""]
    options: dict[int, int] = {zstd.CompressionParameter.checksum_flag: 1}
    return b"".join(zstd.compress(piece, options=options) for piece in pieces)


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


def many_json_lines(count: int) -> bytes:
    """A larger JSON-lines file, for tests that need several blocks or slices."""
    levels = ("info", "info", "debug", "warn", "error")
    return lines(
        *(
            msgspec.json.encode(
                {
                    "timestamp": f"2024-03-01T{number // 3600 % 24:02d}:{number // 60 % 60:02d}:"
                    f"{number % 60:02d}.{number % 1000:03d}Z",
                    "level": levels[number % len(levels)],
                    "msg": f"request {number} handled",
                    "path": f"/v1/jobs/{number}",
                    "duration_ms": number % 977,
                }
            ).decode()
            for number in range(count)
        )
    )


# --- one sample per format ----------------------------------------------------

JSON_LINES = lines(
    '{"timestamp":"2024-03-01T12:00:00.250Z","level":"info","msg":"server started","port":8080}',
    '{"time":"2024-03-01T13:00:00+01:00","severity":"WARN","message":"disk full","disk":{"p":9}}',
    "",
    '{"ts":1709294405,"lvl":50,"msg":"upload failed","job":"j-1"}',
    "this is not json",
    '{"timestamp":"2024-03-01T12:00:10Z","level":"error","msg":"retry failed","attempt":3}',
    '{"level":"debug","msg":"no time here","time":"yesterday"}',
    "[1, 2, 3]",
)

JSON_LINES_SUMMARY: dict[str, Any] = {
    "format": "json_lines",
    "compression": "none",
    "bytes_in": len(JSON_LINES),
    "bytes_decompressed": len(JSON_LINES),
    "lines": 8,
    "parsed_lines": 5,
    "unparsed_lines": 2,
    "blank_lines": 1,
    "truncated_lines": 0,
    "levels": {"error": 2, "warning": 1, "info": 1, "debug": 1, "unknown": 2},
    "first_timestamp": "2024-03-01T12:00:00Z",
    "last_timestamp": "2024-03-01T12:00:10Z",
    "highest_level": "error",
    "samples": [
        {"line": 4, "text": '{"ts":1709294405,"lvl":50,"msg":"upload failed","job":"j-1"}'},
        {
            "line": 6,
            "text": '{"timestamp":"2024-03-01T12:00:10Z","level":"error","msg":"retry failed",'
            '"attempt":3}',
        },
    ],
    "unparsed_samples": [{"line": 5, "text": "this is not json"}, {"line": 8, "text": "[1, 2, 3]"}],
}

LOGFMT = lines(
    'time=2024-03-01T12:00:00Z level=info msg="server started" port=8080',
    "time=2024-03-01T12:00:01.5Z level=warn msg=slow path=/v1/jobs duration=2.5s",
    r'ts=2024-03-01T11:59:59+00:00 lvl=ERROR msg="db \"primary\" down" retry',
    "level=debug msg=tick empty=",
    "just some words",
    "",
    'time=2024-03-01T12:00:03Z level=chatty msg="x=1"',
)

LOGFMT_SUMMARY: dict[str, Any] = {
    "format": "logfmt",
    "compression": "none",
    "bytes_in": len(LOGFMT),
    "bytes_decompressed": len(LOGFMT),
    "lines": 7,
    "parsed_lines": 5,
    "unparsed_lines": 1,
    "blank_lines": 1,
    "truncated_lines": 0,
    "levels": {"error": 1, "warning": 1, "info": 1, "debug": 1, "unknown": 2},
    "first_timestamp": "2024-03-01T11:59:59Z",
    "last_timestamp": "2024-03-01T12:00:03Z",
    "highest_level": "error",
    "samples": [
        {
            "line": 3,
            "text": r'ts=2024-03-01T11:59:59+00:00 lvl=ERROR msg="db \"primary\" down" retry',
        }
    ],
    "unparsed_samples": [{"line": 5, "text": "just some words"}],
}

SYSLOG_RFC5424 = lines(
    "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 "
    'iut="3" eventSource="App\\]lication"][examplePriority@32473 class="high"] \ufeffAn event',
    "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed",
    "<13>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - It's time",
    "<11>1 - host app - - -",
    "<999>1 2003-10-11T22:14:15Z host app - - - bad priority",
    "not syslog",
)

SYSLOG_RFC5424_SUMMARY: dict[str, Any] = {
    "format": "syslog_rfc5424",
    "compression": "none",
    "bytes_in": len(SYSLOG_RFC5424),
    "bytes_decompressed": len(SYSLOG_RFC5424),
    "lines": 6,
    "parsed_lines": 4,
    "unparsed_lines": 2,
    "blank_lines": 0,
    "truncated_lines": 0,
    "levels": {"critical": 1, "error": 1, "notice": 2, "unknown": 2},
    "first_timestamp": "2003-08-24T12:14:15.000003Z",
    "last_timestamp": "2003-10-11T22:14:15.003000Z",
    "highest_level": "critical",
    "samples": [
        {
            "line": 2,
            "text": "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
            "'su root' failed",
        }
    ],
    "unparsed_samples": [
        {"line": 5, "text": "<999>1 2003-10-11T22:14:15Z host app - - - bad priority"},
        {"line": 6, "text": "not syslog"},
    ],
}

SYSLOG_RFC3164 = lines(
    "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick",
    "<13>Feb  5 17:32:18 10.0.0.99 myapp[1234]: Use the BFG!",
    "Mar  1 12:00:00 host cron[42]: (root) CMD (run-parts /etc/cron.hourly)",
    "<30>Dec 31 23:59:59 host systemd[1]: Started Session 1.",
    "<31>Mar  3 09:00:00 host app: a day ahead of the reference: still this year",
    "<31>Mar  4 09:00:00 host app: more than a day ahead: last year",
    "garbage",
)

SYSLOG_RFC3164_SUMMARY: dict[str, Any] = {
    "format": "syslog_rfc3164",
    "compression": "none",
    "bytes_in": len(SYSLOG_RFC3164),
    "bytes_decompressed": len(SYSLOG_RFC3164),
    "lines": 7,
    "parsed_lines": 6,
    "unparsed_lines": 1,
    "blank_lines": 0,
    "truncated_lines": 0,
    "levels": {"critical": 1, "notice": 1, "info": 1, "debug": 2, "unknown": 2},
    "first_timestamp": "2023-03-04T09:00:00Z",
    "last_timestamp": "2024-03-03T09:00:00Z",
    "highest_level": "critical",
    "samples": [
        {"line": 1, "text": "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick"}
    ],
    "unparsed_samples": [{"line": 7, "text": "garbage"}],
}

ACCESS_LOG = lines(
    '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 '
    '"http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"',
    '10.0.0.2 - - [10/Oct/2000:21:00:00 +0000] "POST /v1/jobs HTTP/1.1" 503 - "-" "curl/8.0"',
    '10.0.0.3 - - [10/Oct/2000:21:00:01 +0000] "GET /missing HTTP/1.1" 404 153',
    '10.0.0.4 - - [10/Oct/2000:21:00:02 +0000] "\\x16\\x03\\x01" 400 0 "-" "-" 0.001',
    "<garbage>",
)

ACCESS_LOG_SUMMARY: dict[str, Any] = {
    "format": "access_log",
    "compression": "none",
    "bytes_in": len(ACCESS_LOG),
    "bytes_decompressed": len(ACCESS_LOG),
    "lines": 5,
    "parsed_lines": 4,
    "unparsed_lines": 1,
    "blank_lines": 0,
    "truncated_lines": 0,
    "levels": {"error": 1, "warning": 2, "info": 1, "unknown": 1},
    "first_timestamp": "2000-10-10T20:55:36Z",
    "last_timestamp": "2000-10-10T21:00:02Z",
    "highest_level": "error",
    "samples": [
        {
            "line": 2,
            "text": '10.0.0.2 - - [10/Oct/2000:21:00:00 +0000] "POST /v1/jobs HTTP/1.1" '
            '503 - "-" "curl/8.0"',
        }
    ],
    "unparsed_samples": [{"line": 5, "text": "<garbage>"}],
}

PLAIN_TEXT = lines(
    "2024-03-01 12:00:00,123 ERROR something broke",
    "[2024-03-01T12:00:01Z] [warn] careful now",
    "Error handling is fine here",
    "INFO: started",
    "   ",
    "just a line",
)

PLAIN_TEXT_SUMMARY: dict[str, Any] = {
    "format": "plain_text",
    "compression": "none",
    "bytes_in": len(PLAIN_TEXT),
    "bytes_decompressed": len(PLAIN_TEXT),
    "lines": 6,
    "parsed_lines": 5,
    "unparsed_lines": 0,
    "blank_lines": 1,
    "truncated_lines": 0,
    "levels": {"error": 1, "warning": 1, "info": 1, "unknown": 2},
    "first_timestamp": "2024-03-01T12:00:00.123000Z",
    "last_timestamp": "2024-03-01T12:00:01Z",
    "highest_level": "error",
    "samples": [{"line": 1, "text": "2024-03-01 12:00:00,123 ERROR something broke"}],
    "unparsed_samples": [],
}

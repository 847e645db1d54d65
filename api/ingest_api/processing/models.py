"""The vocabulary of processing: levels, formats, compressions, the normalised
record every parser produces, and the limits a caller sets.

`Record` is a msgspec Struct rather than a dataclass: the hot loop builds one
per line, and a Struct is built and encoded to JSON in C, several times
faster than a dataclass or a dict.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, NewType

import msgspec


class Level(StrEnum):
    """Severity, most severe first; `UNKNOWN` for a line that names none."""

    EMERGENCY = "emergency"
    ALERT = "alert"
    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    NOTICE = "notice"
    INFO = "info"
    DEBUG = "debug"
    TRACE = "trace"
    UNKNOWN = "unknown"


# A Level's value, the form records carry: msgspec writes a plain str
# several times faster than an enum member, which shows at a million lines.
LevelName = NewType("LevelName", str)

# Lower rank = more severe; the order of the members above. Looked up by
# Level or by LevelName alike (a StrEnum member hashes as its value).
SEVERITY_RANK: dict[str, int] = {level.value: rank for rank, level in enumerate(Level)}


class LogFormat(StrEnum):
    JSON_LINES = "json_lines"
    LOGFMT = "logfmt"
    SYSLOG_RFC5424 = "syslog_rfc5424"
    SYSLOG_RFC3164 = "syslog_rfc3164"
    ACCESS_LOG = "access_log"
    PLAIN_TEXT = "plain_text"


class Compression(StrEnum):
    GZIP = "gzip"
    ZSTD = "zstd"
    NONE = "none"


class Record(msgspec.Struct, gc=False, omit_defaults=True):
    """One line of the input, normalised; one line of the NDJSON output.

    `level` is the value of a `Level`. `timestamp` is an aware UTC datetime,
    written as RFC 3339 with a `Z` (`2024-03-01T12:00:00.123000Z`; no
    fraction when it is zero). `parsed` is false for a line the file's format
    did not recognise: its `message` is then the raw line. `truncated` marks
    a line cut at the line-length limit. The output writes these two flags
    only when they are not the default (`"parsed":false`, `"truncated":true`):
    a tenth less to encode and compress. `fields` holds the rest of what the
    line said, with the keys its format gives them.
    """

    # gc=False: a record never takes part in a reference cycle, so the cycle
    # collector need not track the millions of them a file makes.
    line: int
    timestamp: datetime | None
    level: LevelName
    message: str
    fields: dict[str, Any]
    parsed: bool = True
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class Limits:
    """What one file may cost. Memory stays flat whatever the file's size, so
    these bound what does grow with it: a job's time and its output. The
    worker takes them from its settings (and the IngestService's
    `spec.processing`)."""

    # Past this much decompressed data the file fails (LimitExceeded): it bounds
    # a job's run time and output.
    max_decompressed_bytes: int = 20 * 1024**3
    # Decompressed bytes per compressed byte read, past `RATIO_FREE_BYTES`:
    # logs compress 5-30x with gzip and seldom past 100x with zstd, while a
    # decompression bomb (gigabytes of one byte) expands thousands of times,
    # so it fails within its first megabytes instead of after 20 GiB.
    max_compression_ratio: float = 200.0
    # A longer line is cut here and counted; one runaway line must not fail a file
    # nor hold unbounded memory.
    max_line_bytes: int = 64 * 1024
    # Wall-clock time one file may take, checked block by block: the last
    # bound on a file that is slow for a reason the others miss.
    max_seconds: float = 3600.0

    # Output below this size is never a bomb, whatever its ratio: a small,
    # very repetitive log may compress far better than a large one.
    RATIO_FREE_BYTES: ClassVar[int] = 64 * 1024**2

    def __post_init__(self) -> None:
        if min(self.max_decompressed_bytes, self.max_line_bytes) < 1:
            raise ValueError("limits must be positive")
        if self.max_compression_ratio < 1 or self.max_seconds <= 0:
            raise ValueError("limits must be positive (a ratio at least 1)")

"""Processing: turn one uploaded log file into normalised records and a summary.

Pure and streaming: it reads a byte stream and writes to a callable, and
knows nothing of Redis, the database or S3, so the worker wires it to an S3
body and a multipart upload, and tests feed it bytes. Memory stays flat
whatever the file's size.

    summary = process_stream(body, upload_part, reference_time=job.created_at)
    job.result = summary.to_dict()

Whatever the bytes, `process_stream` returns a summary or raises one of
these errors about the file as a whole, all permanent (the same bytes fail
the same way), each with a `reason` for a person and a stable `code`; a
line it cannot make sense of is an unparsed line (`guarding`), never an
error:

    ProcessingError          base
    ├── CorruptInput         the archive is damaged or truncated
    ├── UnsupportedInput     zip, xz, bzip2, 7z: recognised, not read
    ├── NotText              binary content, UTF-16, a tar archive
    ├── LimitExceeded        more data, more expansion or more time than `Limits` allows
    └── ChecksumMismatch     the bytes do not hash to the declared sha256

The steps, one module each: decompressing -> sniffing -> splitting ->
detecting -> formats (one parser per format) -> summarising and writing,
wired together in `pipeline`.
"""

from __future__ import annotations

from ingest_api.processing.errors import (
    ChecksumMismatch,
    CorruptInput,
    LimitExceeded,
    NotText,
    ProcessingError,
    UnsupportedInput,
)
from ingest_api.processing.models import (
    Compression,
    Level,
    LevelName,
    Limits,
    LogFormat,
    Record,
)
from ingest_api.processing.pipeline import process_stream
from ingest_api.processing.summarising import Sample, Summary

__all__ = [
    "ChecksumMismatch",
    "Compression",
    "CorruptInput",
    "Level",
    "LevelName",
    "LimitExceeded",
    "Limits",
    "LogFormat",
    "NotText",
    "ProcessingError",
    "Record",
    "Sample",
    "Summary",
    "UnsupportedInput",
    "process_stream",
]

"""Why a file could not be processed, in words a person can act on.

    ProcessingError          base; `reason` is the sentence to show, `code` the kind
    ├── CorruptInput         the archive is damaged or truncated
    ├── UnsupportedInput     a compression or container we do not read (zip, xz, ...)
    ├── NotText              the content is binary, not a text log
    ├── LimitExceeded        the file is larger, expands more, or takes longer than
    │                        the configured limits allow
    └── ChecksumMismatch     the bytes are not the ones whose sha256 was declared

All of them are permanent: the same bytes fail the same way on every try, so
the worker fails the job with `reason` and `code` at once instead of
retrying. A problem inside one line is none of these: that line is kept as
unparsed and the file goes on (see `guarding`). Failures to read the source
(a dropped S3 connection) are not wrapped: they are the caller's I/O errors,
and retrying those may well help.

`code` is stable (clients branch on it, it is stored with the job): a new
kind of failure gets a new code, an existing code never changes meaning.
"""

from __future__ import annotations


class ProcessingError(Exception):
    """Base of the processing errors; never raised itself."""

    code = "processing_error"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CorruptInput(ProcessingError):
    code = "corrupt_input"


class UnsupportedInput(ProcessingError):
    code = "unsupported_input"


class NotText(ProcessingError):
    code = "not_text"


class LimitExceeded(ProcessingError):
    code = "limit_exceeded"


class ChecksumMismatch(ProcessingError):
    code = "checksum_mismatch"

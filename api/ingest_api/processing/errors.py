"""Why a file could not be processed, in words a person can act on.

    ProcessingError          base; `reason` is the sentence to show, `code` the kind
    ├── CorruptInput         the archive is damaged or truncated
    ├── UnsupportedInput     a compression or container we do not read (zip, xz, ...)
    ├── NotText              the content is binary, not a text log
    └── LimitExceeded        the file is larger than the configured limits allow

All of them are permanent: the same bytes fail the same way on every try, so
the worker fails the job with `reason` instead of retrying. Failures to read
the source (a dropped S3 connection) are not wrapped: they are the caller's
I/O errors, and retrying those may well help.
"""

from __future__ import annotations


class ProcessingError(Exception):
    """Base of the processing errors; never raised itself."""

    code = "processing-error"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CorruptInput(ProcessingError):
    code = "corrupt-input"


class UnsupportedInput(ProcessingError):
    code = "unsupported-input"


class NotText(ProcessingError):
    code = "not-text"


class LimitExceeded(ProcessingError):
    code = "limit-exceeded"

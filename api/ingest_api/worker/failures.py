"""What a worker does about an error, decided in one place.

    Permanent   the file itself cannot be processed (`ProcessingError`): the
                job fails at once with the error's code and reason, and its
                message is acknowledged; processing it again would fail again.
    Transient   a dependency (PostgreSQL, Redis, S3) could not be reached: the
                step is retried with backoff, the message kept claimed, and
                it never counts as the file's fault.
    Internal    anything else is a bug of ours, not a reason to loop: the job
                fails with "internal error while processing", the traceback
                goes to the log and a metric counts it; the worker moves on.

Pure: it reads an exception and answers; the worker acts on the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from redis.exceptions import RedisError

from ingest_api.core.db_errors import POSTGRES, is_timeout, is_unavailable, transient_kind
from ingest_api.core.errors import DependencyUnavailable
from ingest_api.processing.errors import ProcessingError
from ingest_api.storage.service import http_status

INTERNAL_ERROR_CODE = "internal_error"
DEAD_LETTERED_CODE = "dead_lettered"


@dataclass(frozen=True)
class Permanent:
    code: str
    reason: str


@dataclass(frozen=True)
class Transient:
    dependency: str


@dataclass(frozen=True)
class Internal:
    code: str = INTERNAL_ERROR_CODE


Failure = Permanent | Transient | Internal


def classify(error: BaseException) -> Failure:
    """Whether `error` is the file's, a dependency's, or ours."""
    if isinstance(error, ProcessingError):
        return Permanent(error.code, error.reason)
    dependency = unreachable_dependency(error)
    if dependency is not None:
        return Transient(dependency)
    return Internal()


def unreachable_dependency(error: BaseException) -> str | None:
    """The dependency `error` says is out of reach, or None when it says no such thing."""
    if isinstance(error, DependencyUnavailable):
        return error.dependency
    if transient_kind(error) is not None or is_unavailable(error) or is_timeout(error):
        return POSTGRES
    if isinstance(error, RedisError):
        return "redis"
    if isinstance(error, BotoCoreError):  # no connection, a timeout, a stream cut short
        return "s3"
    if isinstance(error, ClientError):
        # The storage answered. A server error, throttling or refused
        # credentials (a rotation under way) clear up by themselves; any
        # other answer to our own request is a bug of ours.
        status = http_status(error)
        return "s3" if status >= 500 or status in {403, 429} else None
    if isinstance(error, OSError):  # a socket error below the clients
        return "network"
    return None

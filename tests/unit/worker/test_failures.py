"""One classification of every error a worker meets: the file's, a
dependency's, or a bug of ours."""

from __future__ import annotations

import psycopg
import pytest
import sqlalchemy.exc
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from redis.exceptions import ConnectionError as RedisConnectionError

from ingest_api.core.errors import DependencyUnavailable
from ingest_api.processing import LimitExceeded, NotText
from ingest_api.worker.failures import Internal, Permanent, Transient, classify
from ingest_api.worker.objects import ObjectReplaced


def client_error(status: int, code: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetObject"
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (NotText("binary"), Permanent("not_text", "binary")),
        (LimitExceeded("too big"), Permanent("limit_exceeded", "too big")),
        (ObjectReplaced("replaced"), Permanent("object_replaced", "replaced")),
        (DependencyUnavailable("down", dependency="s3"), Transient("s3")),
        (EndpointConnectionError(endpoint_url="http://s3"), Transient("s3")),
        (ReadTimeoutError(endpoint_url="http://s3"), Transient("s3")),
        (client_error(503, "SlowDown"), Transient("s3")),
        (client_error(500, "InternalError"), Transient("s3")),
        (client_error(403, "AccessDenied"), Transient("s3")),
        (client_error(400, "InvalidArgument"), Internal()),
        (RedisConnectionError("refused"), Transient("redis")),
        (psycopg.OperationalError("connection refused"), Transient("postgres")),
        (
            sqlalchemy.exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("gone")),
            Transient("postgres"),
        ),
        (ConnectionResetError("reset"), Transient("network")),
        (psycopg.errors.StringDataRightTruncation("too long"), Internal()),
        (OverflowError("date value out of range"), Internal()),
        (RecursionError("deep"), Internal()),
        (KeyError("x"), Internal()),
    ],
    ids=lambda value: type(value).__name__,
)
def test_each_error_is_the_files_a_dependencys_or_ours(
    error: Exception, expected: Permanent | Transient | Internal
) -> None:
    assert classify(error) == expected

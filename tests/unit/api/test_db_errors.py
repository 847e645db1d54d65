"""Which database errors are retried, which mean PostgreSQL is out of reach,
and which are a timeout: by SQLSTATE, for the driver's errors and
SQLAlchemy's wrappings of them alike (pure)."""

from __future__ import annotations

import psycopg
import psycopg.errors
import pytest
import sqlalchemy.exc
from psycopg_pool import PoolTimeout

from ingest_api.core.db_errors import is_timeout, is_unavailable, transient_kind


def wrapped(error: Exception) -> sqlalchemy.exc.DBAPIError:
    return sqlalchemy.exc.OperationalError("SELECT 1", {}, error)


@pytest.mark.parametrize("wrap", [False, True], ids=["driver", "sqlalchemy"])
@pytest.mark.parametrize(
    "error",
    [psycopg.errors.QueryCanceled("statement timeout"), psycopg.errors.LockNotAvailable("lock")],
    ids=["statement-timeout", "lock-timeout"],
)
def test_a_timeout_is_neither_retried_nor_an_outage(error: Exception, wrap: bool) -> None:
    seen = wrapped(error) if wrap else error
    assert (transient_kind(seen), is_unavailable(seen), is_timeout(seen)) == (None, False, True)


@pytest.mark.parametrize("wrap", [False, True], ids=["driver", "sqlalchemy"])
@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError("server closed the connection unexpectedly"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.TooManyConnections("sorry, too many clients already"),
        psycopg.errors.ConnectionFailure("connection failure"),
    ],
    ids=["no-sqlstate", "admin-shutdown", "too-many-connections", "class-08"],
)
def test_a_lost_connection_is_retried_and_an_outage(error: Exception, wrap: bool) -> None:
    seen = wrapped(error) if wrap else error
    assert (transient_kind(seen), is_unavailable(seen), is_timeout(seen)) == (
        "connection",
        True,
        False,
    )


def test_a_full_disk_is_an_outage_but_not_worth_retrying_at_once() -> None:
    error = psycopg.errors.DiskFull("could not extend file")
    assert (transient_kind(error), is_unavailable(error), is_timeout(error)) == (None, True, False)


def test_a_dropped_connection_is_a_connection_error_and_means_unavailable() -> None:
    dropped = psycopg.OperationalError("server closed the connection unexpectedly")
    assert transient_kind(dropped) == "connection"
    assert is_unavailable(dropped)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (psycopg.errors.SerializationFailure("could not serialize"), "serialization"),
        (psycopg.errors.DeadlockDetected("deadlock detected"), "deadlock"),
        (psycopg.errors.UniqueViolation("duplicate key"), None),
        (ValueError("a bug"), None),
    ],
)
def test_other_errors_keep_their_kind(error: Exception, kind: str | None) -> None:
    assert transient_kind(error) == kind


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.SerializationFailure("could not serialize"),
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.UniqueViolation("duplicate key"),
        ValueError("a bug"),
    ],
)
def test_contention_and_errors_of_the_request_do_not_mean_unavailable(error: Exception) -> None:
    assert not is_unavailable(error)


def test_no_connection_from_the_pool_in_time_is_an_outage_not_retried() -> None:
    waited = PoolTimeout("couldn't get a connection after 2.00 sec")
    assert (transient_kind(waited), is_unavailable(waited)) == (None, True)

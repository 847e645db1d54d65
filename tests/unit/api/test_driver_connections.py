"""How many idle driver connections to keep, and which errors drop them (pure)."""

from __future__ import annotations

import psycopg
import psycopg.errors
import pytest

from ingest_api.core.db_errors import is_unavailable, transient_kind
from ingest_api.core.driver_connections import MAX_KEPT, keep_for_pool


@pytest.mark.parametrize(
    ("pool_size", "max_overflow", "kept"),
    [(1, 0, 0), (3, 0, 0), (2, 2, 1), (5, 0, 1), (10, 10, MAX_KEPT), (100, 0, MAX_KEPT)],
)
def test_a_small_share_of_the_pool_is_kept(pool_size: int, max_overflow: int, kept: int) -> None:
    assert keep_for_pool(pool_size, max_overflow) == kept


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

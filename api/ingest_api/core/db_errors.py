"""Which database errors are worth retrying, and which mean PostgreSQL is out
of reach: one reading of the driver's errors and SQLAlchemy's wrappings of
them, for the transaction runner, the driver connections and the error
handlers alike."""

from __future__ import annotations

import psycopg
import psycopg.errors
import sqlalchemy.exc
from psycopg_pool import PoolTimeout

# The database's name wherever a dependency is named: a 503's `dependency`,
# readiness checks, metric labels.
POSTGRES = "postgres"
# The driver's own connection failures carry no SQLSTATE; the server's say
# the connection is gone (class 08), the server is shutting down
# (57P01-57P03) or has no room for another connection (53300).
_CONNECTION_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
# A statement cut off by statement_timeout (57014, a cancel too) or a lock not
# granted in time (55P03): the database answered, slowly; running the same
# work again at once would only add to its load.
_TIMEOUT_STATES = frozenset({"57014", "55P03"})


def _driver_error(error: BaseException) -> BaseException | None:
    """The driver's error behind SQLAlchemy's wrapping, or `error` itself."""
    if isinstance(error, sqlalchemy.exc.DBAPIError):
        return error.orig
    return error


def transient_kind(error: BaseException) -> str | None:
    """Why a transaction may succeed if simply run again, or None if it would not.
    Takes the driver's errors and SQLAlchemy's wrappings of them alike."""
    if isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated:
        return "connection"
    if isinstance(error, PoolTimeout):  # waited for a connection already: no second wait
        return None
    cause = _driver_error(error)
    if isinstance(cause, psycopg.errors.SerializationFailure):
        return "serialization"
    if isinstance(cause, psycopg.errors.DeadlockDetected):
        return "deadlock"
    if isinstance(cause, psycopg.OperationalError) and _lost_connection(cause):
        return "connection"
    return None


def is_timeout(error: BaseException) -> bool:
    """True when a statement or a lock wait ran out of time."""
    cause = _driver_error(error)
    return isinstance(cause, psycopg.Error) and cause.sqlstate in _TIMEOUT_STATES


def is_unavailable(error: BaseException) -> bool:
    """True when the error means PostgreSQL cannot be reached or cannot serve
    (out of connections, of disk), rather than a bug. Contention (a
    serialization failure, a deadlock) and a timeout are not outages, though
    the driver files them under OperationalError too."""
    kind = transient_kind(error)
    if kind is not None:
        return kind == "connection"
    if isinstance(error, sqlalchemy.exc.TimeoutError):  # no pooled connection in time
        return True
    cause = _driver_error(error)
    return isinstance(cause, psycopg.OperationalError) and not is_timeout(error)


def _lost_connection(error: psycopg.Error) -> bool:
    state = error.sqlstate
    return state is None or state.startswith("08") or state in _CONNECTION_STATES

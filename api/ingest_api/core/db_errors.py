"""Which database errors are worth retrying, and which mean PostgreSQL is out
of reach: one reading of the driver's errors and SQLAlchemy's wrappings of
them, for the transaction runner, the driver connections and the error
handlers alike."""

from __future__ import annotations

import psycopg
import psycopg.errors
import sqlalchemy.exc


def transient_kind(error: BaseException) -> str | None:
    """Why a transaction may succeed if simply run again, or None if it would not.
    Takes the driver's errors and SQLAlchemy's wrappings of them alike."""
    cause: BaseException | None = error
    if isinstance(error, sqlalchemy.exc.DBAPIError):
        if error.connection_invalidated:
            return "connection"
        cause = error.orig
    if isinstance(cause, psycopg.errors.SerializationFailure):
        return "serialization"
    if isinstance(cause, psycopg.errors.DeadlockDetected):
        return "deadlock"
    if isinstance(cause, psycopg.OperationalError):
        return "connection"
    return None


def is_unavailable(error: BaseException) -> bool:
    """True when the error means PostgreSQL cannot be reached (rather than a bug).
    A serialization failure or a deadlock is contention, not an outage, though
    the driver files them under OperationalError too."""
    kind = transient_kind(error)
    if kind is not None:
        return kind == "connection"
    return isinstance(error, sqlalchemy.exc.TimeoutError | psycopg.OperationalError)

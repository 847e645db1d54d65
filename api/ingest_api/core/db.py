"""PostgreSQL access: the async engine, its pool, and transactions that retry.

Every unit of work runs through `Database.transaction` (an ORM session),
`Database.read` (a session without a transaction) or `Database.run` (the
driver's own connection), each of which retries the WHOLE unit (never a
single statement) on transient errors: a serialization failure, a deadlock,
or a connection that dropped. Retries are bounded, with exponential backoff
and jitter; past them, or when PostgreSQL cannot be reached at all, the
caller gets DependencyUnavailable (503).

`Database.run` is for the request hot paths (authentication, creating and
reading a job): a psycopg connection in autocommit from a pool of its own
(`psycopg_pool`, DB_HOT_POOL_SIZE connections), so that a one-statement
unit is one round trip. Measured on this project's benchmark, the ORM
session costs about ten times the driver's own CPU time for these
statements.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Session
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from ingest_api.core.config import Settings
from ingest_api.core.db_errors import POSTGRES, is_timeout, is_unavailable, transient_kind
from ingest_api.core.errors import DependencyUnavailable
from ingest_api.core.logging import get_logger
from ingest_api.core.metrics import DB_RETRIES

T = TypeVar("T")
DriverConnection = psycopg.AsyncConnection[Any]
# The longest a hot path waits for a connection of its pool. Its statements
# take milliseconds, so a longer wait means PostgreSQL is down or swamped,
# and the client is better served by a 503 now (PoolTimeout is not retried).
HOT_POOL_WAIT_SECONDS = 2.0
# psycopg_pool retries a failed connection with a doubling delay for as long
# as `reconnect_timeout` (5 minutes by default): after a long outage its next
# try could come minutes after PostgreSQL is back. Given up sooner, a new
# series starts, from a one-second delay, at the next request that waits.
HOT_POOL_RECONNECT_SECONDS = 8.0
log = get_logger(__name__)


class Base(DeclarativeBase):
    """The declarative base of every table."""


def async_database_url(url: str) -> str:
    """DATABASE_URL as people write it -> the URL SQLAlchemy's psycopg driver takes."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError("DATABASE_URL must start with postgresql:// (or postgres://)")


def libpq_url(url: str) -> str:
    """DATABASE_URL as libpq (and psycopg itself) takes it."""
    return "postgresql://" + async_database_url(url).removeprefix("postgresql+psycopg://")


def connect_options(settings: Settings) -> dict[str, Any]:
    return {
        "connect_timeout": 5,
        "options": f"-c statement_timeout={settings.db_statement_timeout_ms}",
    }


def create_hot_pool(settings: Settings) -> AsyncConnectionPool[DriverConnection]:
    """The hot paths' pool: autocommit connections, opened at first use (it
    needs a running event loop)."""
    return AsyncConnectionPool(
        libpq_url(settings.database_url),
        min_size=1,
        max_size=settings.db_hot_pool_size,
        kwargs={**connect_options(settings), "autocommit": True},
        timeout=min(settings.db_pool_timeout_seconds, HOT_POOL_WAIT_SECONDS),
        max_lifetime=float(settings.db_pool_recycle_seconds),
        reconnect_timeout=HOT_POOL_RECONNECT_SECONDS,
        open=False,
        name="hot-paths",
    )


def create_engine(settings: Settings) -> AsyncEngine:
    return create_async_engine(
        async_database_url(settings.database_url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_recycle=settings.db_pool_recycle_seconds,
        # No pre-ping: it costs a round trip on every checkout. A connection
        # the server dropped fails its transaction, which is retried whole on
        # a fresh connection (SQLAlchemy invalidates the pool on disconnect).
        pool_pre_ping=False,
        connect_args=connect_options(settings),
    )


class Database:
    """The engine, its session factory, and the retrying transaction runner."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        hot_pool: AsyncConnectionPool[DriverConnection],
        retry_attempts: int = 4,
    ) -> None:
        self.engine = engine
        self.hot_pool = hot_pool
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        # Reads that need no transaction skip BEGIN and COMMIT: two round
        # trips fewer on the hottest paths (authentication, job reads).
        self.readers = async_sessionmaker(
            engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )
        self.retry_attempts = retry_attempts

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(
            create_engine(settings),
            hot_pool=create_hot_pool(settings),
            retry_attempts=settings.db_retry_attempts,
        )

    async def transaction(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in one transaction, committed at the end, retried whole on
        transient errors. `work` must be safe to run again from the start."""
        return await self._retrying(lambda: self._in_session(self.sessions, work))

    async def read(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run read-only `work` without a transaction (each statement on its
        own), retried on transient errors like a transaction."""
        return await self._retrying(lambda: self._in_session(self.readers, work))

    async def run(self, work: Callable[[DriverConnection], Awaitable[T]]) -> T:
        """Run `work` on a driver connection in autocommit (each statement is
        its own transaction unless `work` opens one with `conn.transaction()`),
        retried whole on transient errors like a transaction."""

        async def attempt() -> T:
            await self.hot_pool.open()  # at once when already open
            async with self.hot_pool.connection() as conn:
                return await work(conn)

        return await self._retrying(attempt)

    async def _in_session(
        self,
        sessions: async_sessionmaker[AsyncSession],
        work: Callable[[AsyncSession], Awaitable[T]],
    ) -> T:
        async with sessions.begin() as session:
            return await work(session)

    async def _retrying(self, attempt_work: Callable[[], Awaitable[T]]) -> T:
        try:
            try:
                # The first attempt runs outside tenacity: nearly every unit of
                # work succeeds at once, and tenacity's bookkeeping costs about
                # as much as a hot-path statement.
                return await attempt_work()
            except Exception as error:
                if transient_kind(error) is None:
                    raise
                return await self._retry(attempt_work, first_failure=error)
        except Exception as error:
            if is_timeout(error):
                raise DependencyUnavailable(
                    "the database did not answer in time (a statement or lock timeout)",
                    dependency=POSTGRES,
                ) from error
            if is_unavailable(error):
                raise DependencyUnavailable(
                    "the database is unreachable", dependency=POSTGRES
                ) from error
            kind = transient_kind(error)
            if kind is not None:  # contention that outlasted every retry
                raise DependencyUnavailable(
                    f"the database is too busy to complete the request "
                    f"({kind} on each of {self.retry_attempts} attempts)",
                    dependency=POSTGRES,
                ) from error
            raise

    async def _retry(
        self, attempt_work: Callable[[], Awaitable[T]], *, first_failure: Exception
    ) -> T:
        """The attempts after a transient failure, under tenacity: its first
        attempt replays that failure, so the bound, backoff and counting are
        tenacity's own, as if it had run the first attempt too."""
        replays = [first_failure]

        async def attempt_again() -> T:
            if replays:
                raise replays.pop()
            return await attempt_work()

        async for attempt in AsyncRetrying(
            stop=stop_after_attempt(self.retry_attempts),
            wait=wait_exponential_jitter(multiplier=0.05, max=1.0, jitter=0.05),
            retry=retry_if_exception(lambda e: transient_kind(e) is not None),
            before_sleep=_count_retry,
            reraise=True,
        ):
            with attempt:
                return await attempt_again()
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def dispose(self) -> None:
        await self.hot_pool.close()
        await self.engine.dispose()


_AFTER_COMMIT = "ingest_after_commit"


def after_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once this session's transaction commits; never if it rolls
    back. For effects that must not happen twice when a transaction is retried
    (metrics, waking the outbox relay)."""
    session.sync_session.info.setdefault(_AFTER_COMMIT, []).append(callback)


@event.listens_for(Session, "after_commit")
def _run_after_commit(session: Session) -> None:
    for callback in session.info.pop(_AFTER_COMMIT, []):
        callback()


@event.listens_for(Session, "after_rollback")
def _drop_after_commit(session: Session) -> None:
    session.info.pop(_AFTER_COMMIT, None)


def _count_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    kind = transient_kind(error) if error else None
    DB_RETRIES.labels(kind=kind or "unknown").inc()
    log.warning("retrying transaction", kind=kind, attempt=state.attempt_number, error=str(error))

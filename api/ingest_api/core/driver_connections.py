"""The hot paths' psycopg connections, kept checked out between units of work.

`Database.run` wants a driver connection in autocommit for a statement or
two. Checking one out of SQLAlchemy's pool and back (through greenlets,
with the pool's reset on return) costs more than such a statement: about
120 us a unit, measured, a fifth of creating a job. So a connection that a
unit leaves idle stays checked out, in autocommit, for the next unit.

The engine's pool stays the only pool: its size and overflow bound every
connection, kept ones included. Kept connections are idle connections the
ORM sessions cannot take, so few are kept (see `keep_for_pool`), and none
for longer than `max_age` seconds: then it goes back to the pool, whose
recycling and invalidation apply to it as to any other. A connection that
fails with a connection error is invalidated, and the kept ones with it: a
dropped connection usually means a restarted server, and the next unit
then connects afresh instead of finding the next dead one.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.pq import TransactionStatus
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from ingest_api.core.db_errors import transient_kind

DriverConnection = psycopg.AsyncConnection[Any]
IDLE = TransactionStatus.IDLE

# Past this, a kept connection goes back to the pool at its next use.
MAX_AGE_SECONDS = 60.0
# Kept connections at most, however large the pool.
MAX_KEPT = 4


def keep_for_pool(pool_size: int, max_overflow: int) -> int:
    """How many idle connections to keep: a quarter of what the pool may open,
    at most MAX_KEPT; none for a pool of fewer than four."""
    return min(MAX_KEPT, (pool_size + max_overflow) // 4)


@dataclass(frozen=True, slots=True)
class _Checkout:
    pooled: PoolProxiedConnection
    conn: DriverConnection
    since: float  # time.monotonic() when it left the pool


class DriverConnections:
    def __init__(self, engine: AsyncEngine, *, keep: int, max_age: float = MAX_AGE_SECONDS) -> None:
        self._pool = engine.sync_engine.pool
        self._keep = keep
        self._max_age = max_age
        self._idle: list[_Checkout] = []  # the most recently used last

    @property
    def kept(self) -> int:
        return len(self._idle)

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[DriverConnection]:
        """A connection in autocommit, in the state the unit found it in until
        it returns: idle, or discarded."""
        checkout = self._idle.pop() if self._idle else await self._check_out()
        try:
            yield checkout.conn
        except BaseException as error:
            if transient_kind(error) == "connection":
                await self._invalidate(checkout, error)
                await self.release(invalidate=True)
            else:
                await self._done_with(checkout, error)
            raise
        await self._done_with(checkout)

    async def release(self, *, invalidate: bool = False) -> None:
        """Hand every kept connection back to the pool (or have it discard them)."""
        while self._idle:
            checkout = self._idle.pop()
            if invalidate or checkout.conn.closed:
                await self._invalidate(checkout, None)
            else:
                await self._check_in(checkout)

    async def _check_out(self) -> _Checkout:
        pooled = await greenlet_spawn(self._pool.connect)
        conn = pooled.driver_connection
        if not isinstance(conn, psycopg.AsyncConnection):  # pragma: no cover - the engine's driver
            raise TypeError(f"expected a psycopg connection, got {type(conn).__name__}")
        try:
            await conn.set_autocommit(True)
        except BaseException as error:
            await greenlet_spawn(pooled.invalidate, error if isinstance(error, Exception) else None)
            raise
        return _Checkout(pooled, conn, time.monotonic())

    async def _done_with(self, checkout: _Checkout, error: BaseException | None = None) -> None:
        # A connection caught mid-statement (cancelled, or dropped) is not one
        # to hand out again; an idle one merely failed a check, or succeeded.
        if checkout.conn.closed or checkout.conn.info.transaction_status != IDLE:
            await self._invalidate(checkout, error)
        elif time.monotonic() - checkout.since < self._max_age and len(self._idle) < self._keep:
            self._idle.append(checkout)
        else:
            await self._check_in(checkout)

    @staticmethod
    async def _check_in(checkout: _Checkout) -> None:
        # Back in the state the ORM sessions expect of a pooled connection.
        await checkout.conn.set_autocommit(False)
        await greenlet_spawn(checkout.pooled.close)

    @staticmethod
    async def _invalidate(checkout: _Checkout, error: BaseException | None) -> None:
        cause = error if isinstance(error, Exception) else None
        await greenlet_spawn(checkout.pooled.invalidate, cause)

"""The hot paths' kept driver connections, on the real PostgreSQL: reused while
fresh, bounded, handed back in the pool's own state, and all dropped when
one of them turns out dead."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import text

from ingest_api.core.config import Settings
from ingest_api.core.db import Database
from ingest_api.core.driver_connections import DriverConnection, DriverConnections
from tests.support.database import with_database

T = TypeVar("T")


def with_kept_connections(
    settings: Settings,
    use: Callable[[Database], Awaitable[T]],
    *,
    keep: int = 2,
    max_age: float = 60,
) -> T:
    """`use` on a Database whose driver connections keep `keep`, for `max_age` s."""

    async def configured(db: Database) -> T:
        db.drivers = DriverConnections(db.engine, keep=keep, max_age=max_age)
        return await use(db)

    return with_database(settings, configured)


async def backend_pid(conn: DriverConnection) -> int:
    return conn.info.backend_pid


def checked_out(db: Database) -> int:
    return int(db.engine.sync_engine.pool.checkedout())  # type: ignore[attr-defined]


async def run_side_by_side(db: Database, units: int) -> tuple[list[int], int]:
    """`units` units at once, each holding its connection until all have one:
    their backends, and how many connections were checked out meanwhile."""
    gate = asyncio.Event()

    async def hold(conn: DriverConnection) -> int:
        await gate.wait()
        return conn.info.backend_pid

    running = [asyncio.create_task(db.run(hold)) for _ in range(units)]
    await asyncio.sleep(0.2)
    during = checked_out(db)
    gate.set()
    return list(await asyncio.gather(*running)), during


def test_a_unit_reuses_the_connection_the_last_one_left_idle(settings: Settings) -> None:
    async def use(db: Database) -> tuple[list[int], int, int]:
        pids = [await db.run(backend_pid) for _ in range(5)]
        return pids, db.drivers.kept, checked_out(db)

    pids, kept, out = with_kept_connections(settings, use)
    assert len(set(pids)) == 1
    assert (kept, out) == (1, 1)  # kept idle: still checked out of the pool


def test_no_more_than_keep_connections_stay_checked_out(settings: Settings) -> None:
    async def use(db: Database) -> tuple[int, int, int]:
        _, during = await run_side_by_side(db, 4)
        return during, db.drivers.kept, checked_out(db)

    during, kept, after = with_kept_connections(settings, use, keep=2)
    assert during == 4
    assert (kept, after) == (2, 2)


def test_a_connection_past_its_age_goes_back_to_the_pool(settings: Settings) -> None:
    async def use(db: Database) -> tuple[int, int]:
        await db.run(backend_pid)
        return db.drivers.kept, checked_out(db)

    assert with_kept_connections(settings, use, max_age=0) == (0, 0)


def test_released_connections_reach_the_orm_out_of_autocommit(settings: Settings) -> None:
    """A kept connection runs in autocommit; once handed back, an ORM
    transaction on it must still roll back what it wrote."""
    one = settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0})

    async def use(db: Database) -> tuple[int, int, bool]:
        first = await db.run(backend_pid)
        await db.drivers.release()

        async def write_then_roll_back() -> int:
            async with db.sessions() as session, session.begin():
                await session.execute(text("CREATE TABLE released_probe (id int)"))
                pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
                await session.rollback()
                return int(pid)

        second = await write_then_roll_back()
        found = await db.run(
            lambda conn: _scalar(conn, "SELECT to_regclass('released_probe') IS NOT NULL")
        )
        return first, second, bool(found)

    first, second, found = with_kept_connections(one, use, keep=1)
    assert first == second  # the one connection: kept, released, then the ORM's
    assert not found


def test_a_dead_connection_drops_every_kept_one(settings: Settings) -> None:
    async def use(db: Database) -> tuple[set[int], set[int], int]:
        kept_before = set((await run_side_by_side(db, 2))[0])
        attempts: list[int] = []

        async def die_once(conn: DriverConnection) -> int:
            attempts.append(conn.info.backend_pid)
            if len(attempts) == 1:
                await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            return conn.info.backend_pid

        survivor = await db.run(die_once)
        return kept_before, {survivor}, db.drivers.kept

    kept_before, survivor, kept_after = with_kept_connections(settings, use, keep=2)
    assert len(kept_before) == 2
    # The retry did not get the other kept connection: it connected afresh.
    assert survivor.isdisjoint(kept_before)
    assert kept_after == 1


async def _scalar(conn: DriverConnection, query: str) -> object:
    row = await (await conn.execute(query)).fetchone()
    return row[0] if row else None


def test_a_connection_left_inside_a_transaction_is_not_kept(settings: Settings) -> None:
    async def leave_a_transaction_open(conn: DriverConnection) -> int:
        await conn.execute("BEGIN")
        return conn.info.backend_pid

    async def use(db: Database) -> tuple[int, int, int]:
        left_open = await db.run(leave_a_transaction_open)
        kept = db.drivers.kept
        return left_open, kept, await db.run(backend_pid)

    left_open, kept, next_one = with_kept_connections(settings, use)
    assert kept == 0
    assert next_one != left_open  # discarded, not handed to the next unit

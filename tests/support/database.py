"""A `Database` for one test: made from the test's settings, used, disposed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ingest_api.core.config import Settings
from ingest_api.core.db import Database

T = TypeVar("T")


def with_database(settings: Settings, use: Callable[[Database], Awaitable[T]]) -> T:
    """What `use` returns (or raises) on a fresh Database, disposed afterwards."""

    async def run() -> T:
        db = Database.from_settings(settings)
        try:
            return await use(db)
        finally:
            await db.dispose()

    return asyncio.run(run())

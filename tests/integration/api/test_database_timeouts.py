"""A statement that outlives statement_timeout on the real PostgreSQL is a
503 that says so, at once: not "unreachable", and not run again."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_api.core.config import Settings
from ingest_api.core.db import Database
from ingest_api.core.errors import DependencyUnavailable


async def _sleep_past_the_timeout(settings: Settings) -> tuple[DependencyUnavailable, int]:
    database = Database.from_settings(settings.model_copy(update={"db_statement_timeout_ms": 100}))
    attempts = 0

    async def slow(session: AsyncSession) -> None:
        nonlocal attempts
        attempts += 1
        await session.execute(text("SELECT pg_sleep(2)"))

    try:
        with pytest.raises(DependencyUnavailable) as raised:
            await database.transaction(slow)
    finally:
        await database.engine.dispose()
    return raised.value, attempts


def test_a_statement_timeout_is_a_timeout_and_is_not_retried(settings: Settings) -> None:
    error, attempts = asyncio.run(_sleep_past_the_timeout(settings))

    assert "did not answer in time" in error.detail
    assert attempts == 1

"""A `Database` for one test: made from the test's settings, used, disposed;
and the users a test of the domain services (not the HTTP API) starts from."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from ingest_api.auth.security import hash_password
from ingest_api.core.config import Settings
from ingest_api.core.db import Database
from ingest_api.users import service as users
from ingest_api.users.models import Role

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


async def add_user(db: Database, name: str, role: Role, *, active: bool = True) -> uuid.UUID:
    """A user named `name`, with the role (and disabled unless `active`); its id."""

    async def add(session: AsyncSession) -> uuid.UUID:
        user = await users.create(
            session, username=name, password_hash=hash_password(f"{name}-password"), role=role
        )
        user.is_active = active
        return user.id

    return await db.transaction(add)

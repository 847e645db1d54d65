"""The long-lived clients a process holds (database, Redis, storage), built
from settings once and closed once. The API and the worker each own one."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from ingest_api.core.config import Settings
from ingest_api.core.db import Database
from ingest_api.core.redis import create_redis
from ingest_api.storage.service import ObjectStore


@dataclass
class Runtime:
    settings: Settings
    db: Database
    redis: aioredis.Redis
    store: ObjectStore

    @classmethod
    def from_settings(cls, settings: Settings) -> Runtime:
        return cls(
            settings=settings,
            db=Database.from_settings(settings),
            redis=create_redis(settings),
            store=ObjectStore(settings, public_endpoint=settings.s3_public_endpoint),
        )

    async def close(self) -> None:
        await self.db.dispose()
        await self.redis.aclose()

"""The Redis connection pool shared by the queue, the rate limiter and /readyz."""

from __future__ import annotations

import redis.asyncio as aioredis

from ingest_api.core.config import Settings


def create_redis(settings: Settings) -> aioredis.Redis:
    # Short timeouts: when Redis is gone, callers learn it in seconds and
    # answer 503 (or, for the outbox relay, try again later).
    return aioredis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=2,
        socket_timeout=5,
        health_check_interval=15,
        decode_responses=True,
    )

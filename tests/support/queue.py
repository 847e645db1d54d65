"""Read the job stream as a worker would see it. The outbox relay adds a
message after the commit that queued its job, in a task of its own, so a
test waits for the first message rather than reading the stream at once."""

from __future__ import annotations

import time

import redis

from ingest_api.core.config import Settings


def stream_messages(settings: Settings, *, timeout: float = 10.0) -> list[dict[str, str]]:
    """The stream's messages (their fields), waiting up to `timeout` for the first."""
    deadline = time.monotonic() + timeout
    with redis.Redis.from_url(settings.redis_url, decode_responses=True) as conn:
        while True:
            entries = conn.xrange(settings.queue_stream)
            if entries or time.monotonic() > deadline:
                return [fields for _, fields in entries]
            time.sleep(0.1)

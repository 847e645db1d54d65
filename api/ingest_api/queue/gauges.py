"""The queue's gauges: what the stream holds, what waits, and since when.

Sampled by the API every QUEUE_GAUGES_INTERVAL_SECONDS (it runs while the workers may not,
and an alert on a queue nobody reads is the point). Every replica samples
the same Redis, so alerts and dashboards take the `max` across them. A
message's id is the time Redis added it, so the oldest message still owed
to the group (undelivered, or delivered and not acknowledged) gives the
age without reading any field.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from ingest_api.core.logging import get_logger
from ingest_api.core.metrics import (
    QUEUE_DEAD_LETTERS,
    QUEUE_MESSAGES,
    QUEUE_OLDEST_AGE,
    QUEUE_PENDING,
    QUEUE_SAMPLE_ERRORS,
    QUEUE_UNDELIVERED,
)
from ingest_api.queue.consumer import CONSUMER_GROUP, dead_letter_stream, is_missing_group

log = get_logger(__name__)


@dataclass(frozen=True)
class QueueSample:
    messages: int
    undelivered: int
    pending: int
    dead_letters: int
    # Ids of the oldest undelivered and the oldest pending message, if any.
    oldest_undelivered_id: str | None
    oldest_pending_id: str | None

    def oldest_age_seconds(self, now_ms: int) -> float:
        """Age of the oldest message still owed to the group; 0 when none is."""
        added = [
            added_ms(message_id)
            for message_id in (self.oldest_undelivered_id, self.oldest_pending_id)
            if message_id is not None
        ]
        return max(now_ms - min(added), 0) / 1000 if added else 0.0


def added_ms(message_id: str) -> int:
    """When Redis added a message: the first part of its id, in ms since the epoch."""
    return int(message_id.split("-", 1)[0])


async def sample_queue(redis: aioredis.Redis, *, stream: str, group: str) -> QueueSample:
    """Read the stream's state as the group sees it (a missing group has
    delivered nothing: a worker creates it from the start of the stream)."""
    messages = int(await redis.xlen(stream))
    dead_letters = int(await redis.xlen(dead_letter_stream(stream)))
    last_delivered, lag = await _group_position(redis, stream=stream, group=group)
    after_last: Any = await redis.xrange(stream, min=f"({last_delivered}", max="+", count=1)
    pending, oldest_pending = await _pending_summary(redis, stream=stream, group=group)
    return QueueSample(
        messages=messages,
        # Redis cannot tell the lag once entries were deleted from the middle
        # of the stream; it is then at most the whole stream.
        undelivered=messages if lag is None else lag,
        pending=pending,
        dead_letters=dead_letters,
        oldest_undelivered_id=str(after_last[0][0]) if after_last else None,
        oldest_pending_id=oldest_pending,
    )


async def _group_position(
    redis: aioredis.Redis, *, stream: str, group: str
) -> tuple[str, int | None]:
    """The group's last-delivered id and lag ("0-0" and unknown while it is missing)."""
    try:
        groups: list[dict[str, Any]] = await redis.xinfo_groups(stream)
    except ResponseError:
        return "0-0", 0  # no stream yet
    for info in groups:
        if info["name"] == group:
            lag = info.get("lag")
            return str(info["last-delivered-id"]), None if lag is None else int(lag)
    return "0-0", None


async def _pending_summary(
    redis: aioredis.Redis, *, stream: str, group: str
) -> tuple[int, str | None]:
    """How many messages are pending, and the oldest one's id."""
    try:
        summary: Any = await redis.xpending(stream, group)
    except ResponseError as error:
        if is_missing_group(error):
            return 0, None
        raise
    if not summary["pending"]:
        return 0, None
    return int(summary["pending"]), str(summary["min"])


def publish(sample: QueueSample, *, now_ms: int) -> None:
    QUEUE_MESSAGES.set(sample.messages)
    QUEUE_UNDELIVERED.set(sample.undelivered)
    QUEUE_PENDING.set(sample.pending)
    QUEUE_DEAD_LETTERS.set(sample.dead_letters)
    QUEUE_OLDEST_AGE.set(sample.oldest_age_seconds(now_ms))


async def sample_forever(redis: aioredis.Redis, *, stream: str, every_seconds: float) -> None:
    """Refresh the gauges until cancelled; while Redis is unreachable they
    keep their last value and the error counter grows."""
    while True:
        try:
            sample = await sample_queue(redis, stream=stream, group=CONSUMER_GROUP)
            publish(sample, now_ms=int(time.time() * 1000))
        except (RedisError, OSError) as error:
            QUEUE_SAMPLE_ERRORS.inc()
            log.warning("could not sample the queue", error=str(error))
        await asyncio.sleep(every_seconds)

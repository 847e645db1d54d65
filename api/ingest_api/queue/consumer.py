"""Reading the job stream as one consumer of a consumer group.

The mechanics of Redis Streams and nothing else (no jobs, no database):
join the group, take new messages, reclaim those a dead consumer left
pending (XAUTOCLAIM, past an idle time longer than a legitimate job takes
without renewing its claim), keep a claim alive while a long job runs,
acknowledge after the caller has committed, and move a message that keeps
failing to a dead-letter stream. Delivery is at least once; the caller
makes processing idempotent.

Redis may lose the group (a restart without its data, a flush, an eviction):
reading then creates it again instead of failing with NOGROUP for ever, and
renewing or acknowledging a claim the group took with it is a no-op. What
the lost entries announced is found again by the recovery (`jobs.recovery`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from ingest_api.core.logging import get_logger

# The group every worker of a service reads the job stream in.
CONSUMER_GROUP = "ingest-workers"


def dead_letter_stream(stream: str) -> str:
    """Where the messages of `stream` that cannot be handled are kept."""
    return f"{stream}:dead"


log = get_logger(__name__)


@dataclass(frozen=True)
class Delivery:
    """One message as this consumer received it; `deliveries` counts this one."""

    message_id: str
    fields: dict[str, str]
    deliveries: int
    reclaimed: bool


class StreamConsumer:
    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        stream: str,
        group: str,
        consumer: str,
        dead_letter_stream: str,
        reclaim_idle_ms: int,
    ) -> None:
        self.redis = redis
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.dead_letter_stream = dead_letter_stream
        self.reclaim_idle_ms = reclaim_idle_ms

    async def ensure_group(self) -> None:
        """Create the group (and the stream) unless they exist."""
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def reclaim(self, count: int = 1) -> list[Delivery]:
        """Messages idle past the reclaim time in another consumer's hands."""
        try:
            answer = await self.redis.xautoclaim(
                self.stream, self.group, self.consumer, self.reclaim_idle_ms, "0-0", count=count
            )
        except ResponseError as error:
            await self._recreate_group_if_missing(error)
            return []
        claimed = [(mid, fields) for mid, fields in answer[1] if fields is not None]
        deliveries = []
        for message_id, fields in claimed:
            deliveries.append(
                Delivery(message_id, fields, await self._delivery_count(message_id), True)
            )
        return deliveries

    async def read_new(self, count: int = 1, block_ms: int = 2000) -> list[Delivery]:
        try:
            # redis-py's declared return type does not describe XREADGROUP's answer.
            answer: Any = await self.redis.xreadgroup(
                self.group, self.consumer, {self.stream: ">"}, count=count, block=block_ms
            )
        except ResponseError as error:
            await self._recreate_group_if_missing(error)
            return []
        if not answer:
            return []
        [(_, messages)] = answer
        return [Delivery(mid, fields, 1, False) for mid, fields in messages]

    async def _delivery_count(self, message_id: str) -> int:
        pending = await self.redis.xpending_range(
            self.stream, self.group, min=message_id, max=message_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else 1

    async def keep_alive(self, message_id: str) -> None:
        """Reset the message's idle time, so no one reclaims a job still running."""
        try:
            await self.redis.xclaim(
                self.stream, self.group, self.consumer, 0, [message_id], justid=True
            )
        except ResponseError as error:
            _unless_group_missing(error)

    async def ack(self, message_id: str) -> None:
        # Redis answers 0, not NOGROUP, when the group went with the claim.
        await self.redis.xack(self.stream, self.group, message_id)

    async def _recreate_group_if_missing(self, error: ResponseError) -> None:
        _unless_group_missing(error)
        log.warning(
            "the consumer group is missing (Redis lost its data?); creating it again",
            stream=self.stream,
            group=self.group,
        )
        await self.ensure_group()

    async def dead_letter(self, delivery: Delivery, reason: str) -> None:
        """Copy the message to the dead-letter stream with why, then acknowledge it."""
        fields = {
            **delivery.fields,
            "original_id": delivery.message_id,
            "deliveries": str(delivery.deliveries),
            "reason": reason,
        }
        await self.redis.xadd(self.dead_letter_stream, fields)  # type: ignore[arg-type]
        await self.ack(delivery.message_id)


def is_missing_group(error: ResponseError) -> bool:
    """Redis's answer when the stream or the group does not exist."""
    return str(error).startswith("NOGROUP")


def _unless_group_missing(error: ResponseError) -> None:
    """Re-raise `error` unless it only says the group is gone."""
    if not is_missing_group(error):
        raise error

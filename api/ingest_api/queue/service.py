"""Queueing without loss: the transactional outbox and its relay.

`enqueue` writes the message into the outbox in the caller's transaction, so
the job's move to `queued` and its message commit together or not at all.
The relay then copies unsent rows to the Redis Stream. While Redis is down
the rows wait; nothing is lost and the API keeps accepting jobs.

Delivery is at least once: if the relay dies between XADD and marking the
row sent, the message is added again. Workers are idempotent (their state
moves are conditional), so a duplicate is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import redis.asyncio as aioredis
from opentelemetry.trace import SpanKind, StatusCode
from redis.exceptions import RedisError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_api.core.db import Database
from ingest_api.core.errors import DependencyUnavailable
from ingest_api.core.logging import get_logger
from ingest_api.core.metrics import OUTBOX_BACKLOG, OUTBOX_RELAYED
from ingest_api.core.tracing import TRACER, context_from
from ingest_api.queue.models import OutboxMessage
from ingest_api.queue.schemas import JobMessage

log = get_logger(__name__)


async def enqueue(session: AsyncSession, *, stream: str, message: JobMessage) -> None:
    """Add `message` to the outbox, in the caller's transaction."""
    session.add(OutboxMessage(stream=stream, payload=message.to_fields()))
    await session.flush()


async def unsent_count(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.sent_at.is_(None))
    )
    return int(count or 0)


class OutboxRelay:
    """Copies committed outbox rows to Redis. Safe with many replicas: each batch
    is claimed with FOR UPDATE SKIP LOCKED, so two relays never send one row
    at the same time. `wake()` after a commit sends at once; otherwise it polls."""

    def __init__(
        self,
        db: Database,
        redis: aioredis.Redis,
        *,
        batch_size: int = 100,
        poll_seconds: float = 1.0,
        max_backoff_seconds: float = 10.0,
    ) -> None:
        self.db = db
        self.redis = redis
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()

    async def relay_once(self) -> int:
        """Send one batch; return how many rows were sent."""

        async def send_batch(session: AsyncSession) -> int:
            rows = list(
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.sent_at.is_(None))
                    .order_by(OutboxMessage.id)
                    .limit(self.batch_size)
                    .with_for_update(skip_locked=True)
                )
            )
            if not rows:
                return 0
            await self._xadd_all(rows)
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([row.id for row in rows]))
                .values(sent_at=datetime.now(UTC))
            )
            return len(rows)

        sent = await self.db.transaction(send_batch)
        if sent:
            OUTBOX_RELAYED.inc(sent)
        return sent

    async def _xadd_all(self, rows: list[OutboxMessage]) -> None:
        # A span per message, in the trace of the request that queued its job.
        spans = [
            TRACER.start_span(
                "relay job message", context=context_from(row.payload), kind=SpanKind.PRODUCER
            )
            for row in rows
        ]
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for row in rows:
                    fields: dict[Any, Any] = dict(row.payload)
                    pipe.xadd(row.stream, fields)
                await pipe.execute()
        except (RedisError, OSError) as error:
            for span in spans:
                span.set_status(StatusCode.ERROR, "redis is unavailable")
            # Raised inside the transaction: the rows stay unsent.
            raise DependencyUnavailable(
                f"redis is unavailable: {error}", dependency="redis"
            ) from error
        finally:
            for span in spans:
                span.end()

    async def refresh_backlog_gauge(self) -> None:
        OUTBOX_BACKLOG.set(await self.db.transaction(unsent_count))

    async def run(self) -> None:
        """Relay until cancelled, backing off while Redis or PostgreSQL is down."""
        backoff = self.poll_seconds
        while True:
            # Cleared before the work, so a wake during it is not lost.
            self._wakeup.clear()
            try:
                while await self.relay_once() == self.batch_size:
                    pass  # a full batch: more may be waiting
                await self.refresh_backlog_gauge()
                backoff = self.poll_seconds
            except DependencyUnavailable as error:
                log.warning("outbox relay waiting for a dependency", dependency=error.dependency)
                backoff = min(backoff * 2, self.max_backoff_seconds)
            except Exception:
                log.exception("outbox relay failed; retrying")
                backoff = min(backoff * 2, self.max_backoff_seconds)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=backoff)

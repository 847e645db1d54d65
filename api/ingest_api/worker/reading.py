"""A worker's consumer loop: read the stream (reclaimed messages first,
then new ones), hand each delivery to the `MessageHandler`, and tell the
health server whether reading works."""

from __future__ import annotations

import asyncio
import contextlib

from ingest_api.core.logging import get_logger
from ingest_api.core.metrics import WORKER_CONSUMERS
from ingest_api.queue.consumer import Delivery, StreamConsumer
from ingest_api.worker.consuming import MessageHandler
from ingest_api.worker.health import ReadingHealth

log = get_logger(__name__)

_BUSY = WORKER_CONSUMERS.labels(state="busy")
_IDLE = WORKER_CONSUMERS.labels(state="idle")


async def consume(
    handler: MessageHandler,
    consumer: StreamConsumer,
    stopping: asyncio.Event,
    reading: ReadingHealth,
) -> None:
    """One consumer loop: reclaimed messages first, then new ones, until stopped."""
    _IDLE.inc()
    try:
        await _consume_until_stopped(handler, consumer, stopping, reading)
    finally:
        _IDLE.dec()


async def _consume_until_stopped(
    handler: MessageHandler,
    consumer: StreamConsumer,
    stopping: asyncio.Event,
    reading: ReadingHealth,
) -> None:
    backoff = 0.5
    while not stopping.is_set():
        try:
            try:
                deliveries = await consumer.reclaim() or await consumer.read_new(block_ms=1000)
            except Exception:
                reading.read_failed()
                raise
            reading.read_succeeded()
            for delivery in deliveries:
                await _handle_busy(handler, delivery)
            backoff = 0.5
        except Exception:
            log.exception("message handling failed; it stays pending")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=backoff)
            backoff = min(backoff * 2, 10.0)


async def _handle_busy(handler: MessageHandler, delivery: Delivery) -> None:
    """Handle one delivery, counted busy (not idle) meanwhile."""
    _IDLE.dec()
    _BUSY.inc()
    try:
        await handler.handle(delivery)
    finally:
        _BUSY.dec()
        _IDLE.inc()

"""`ingest-worker`: run WORKER_CONCURRENCY consumer loops, the recovery
(`worker.recovery`) and the health server until SIGTERM or SIGINT.

Shutdown (Kubernetes sends SIGTERM): stop taking messages at once; give the
running jobs WORKER_SHUTDOWN_GRACE_SECONDS to finish; then stop them at the
next chunk, hand them back (`queued`) and exit. Their messages stay pending
and another worker reclaims them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator

import uvicorn
from pydantic import ValidationError

from ingest_api.core.config import Settings, get_settings
from ingest_api.core.logging import configure_logging, get_logger
from ingest_api.core.tracing import start_tracing
from ingest_api.queue.consumer import CONSUMER_GROUP, StreamConsumer, dead_letter_stream
from ingest_api.runtime import Runtime
from ingest_api.worker.collector import tune_for_processing
from ingest_api.worker.consuming import MessageHandler
from ingest_api.worker.health import ReadingHealth, create_health_app
from ingest_api.worker.reading import consume
from ingest_api.worker.recovery import Recovery

log = get_logger(__name__)


def default_worker_name() -> str:
    # A pod's hostname is its name: unique, and readable in XINFO CONSUMERS.
    return f"{socket.gethostname()}-{os.getpid()}"


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server inside the worker's loop that leaves SIGTERM to the
    worker (uvicorn would otherwise take the signal for itself)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_worker(settings: Settings) -> None:
    runtime = Runtime.from_settings(settings)
    name = settings.worker_name or default_worker_name()
    consumer = StreamConsumer(
        runtime.redis,
        stream=settings.queue_stream,
        group=CONSUMER_GROUP,
        consumer=name,
        dead_letter_stream=dead_letter_stream(settings.queue_stream),
        reclaim_idle_ms=int(settings.worker_reclaim_idle_seconds * 1000),
    )
    stopping = asyncio.Event()
    hard_stop = threading.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)

    await consumer.ensure_group()
    handler = MessageHandler(runtime, consumer, name=name, hard_stop=hard_stop)
    reading = ReadingHealth(unhealthy_after=settings.worker_unhealthy_after_seconds)
    loops = [
        asyncio.create_task(consume(handler, consumer, stopping, reading), name=f"consumer-{i}")
        for i in range(settings.worker_concurrency)
    ]
    recovery = asyncio.create_task(
        Recovery(runtime, group=CONSUMER_GROUP, name=name).run(stopping), name="recovery"
    )
    health = EmbeddedServer(
        uvicorn.Config(
            create_health_app(runtime, lambda: any(not task.done() for task in loops), reading),
            host=settings.host,
            port=settings.metrics_port,
            log_config=None,
            access_log=False,
        )
    )
    health_task = asyncio.create_task(health.serve(), name="health")
    tune_for_processing()
    log.info("worker started", worker=name, concurrency=settings.worker_concurrency)

    await stopping.wait()
    log.info("stopping: no new messages; waiting for running jobs")
    _, still_running = await asyncio.wait(loops, timeout=settings.worker_shutdown_grace_seconds)
    if still_running:
        log.warning("grace period over; handing running jobs back", jobs=len(still_running))
        hard_stop.set()
        await asyncio.wait(still_running)
    # A round cut short rolls back: each takeover is its own transaction.
    recovery.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await recovery
    health.should_exit = True
    await health_task
    await runtime.close()
    log.info("worker stopped")


def main() -> None:
    try:
        settings = get_settings()
    except ValidationError as error:
        problems = [
            f"{'.'.join(map(str, e['loc'])) or 'settings'}: {e['msg']}" for e in error.errors()
        ]
        sys.exit("ingest-worker: invalid configuration:\n  " + "\n  ".join(problems))
    configure_logging(settings.log_level, settings.effective_log_format)
    start_tracing("ingest-worker")
    asyncio.run(run_worker(settings))

"""What a worker does with one delivered message, and its loop.

Exactly-once in effect over an at-least-once stream:
- the job moves `queued -> processing -> completed|failed` through the same
  state machine as the API, each move conditional, so a duplicate delivery
  finds nothing to do and produces no second `completed`;
- the output key is derived from the job id, so a redo overwrites the same
  object with the same bytes;
- the message is acknowledged only after the job's new state is committed;
  an infrastructure failure leaves it pending, to be reclaimed and retried;
- past `max_deliveries` it goes to the dead-letter stream and the job fails
  with that reason.
A job cancelled while it runs stops at the next chunk. On shutdown the
running job is handed back (`queued`) and its message left pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import anyio.to_thread
import structlog

from ingest_api.core.errors import IllegalTransition, NotFound
from ingest_api.core.logging import get_logger
from ingest_api.core.metrics import WORKER_DEAD_LETTERS, WORKER_JOBS, WORKER_RECLAIMS
from ingest_api.jobs import transitions
from ingest_api.jobs.states import JobState
from ingest_api.processing.errors import ProcessingError
from ingest_api.processing.models import Limits
from ingest_api.processing.objects import ProcessedFile, Stopped, process_object
from ingest_api.queue.consumer import Delivery, StreamConsumer
from ingest_api.queue.schemas import JobMessage
from ingest_api.runtime import Runtime

log = get_logger(__name__)


# How often a running job's state is read, to notice a cancellation.
WATCH_SECONDS = 1.0


@dataclass
class StopFlags:
    """Read from the processing thread, set from the event loop: the worker's
    shutdown (shared by every job) and this job's cancellation."""

    shutting_down: threading.Event
    cancelled: threading.Event = field(default_factory=threading.Event)

    def should_stop(self) -> bool:
        return self.shutting_down.is_set() or self.cancelled.is_set()


def job_id_of(fields: dict[str, str]) -> uuid.UUID | None:
    """The job a (possibly malformed) message is about, if it names one."""
    try:
        return uuid.UUID(fields.get("job_id", ""))
    except ValueError:
        return None


class MessageHandler:
    """Handles deliveries one at a time; a worker runs several side by side."""

    def __init__(
        self, runtime: Runtime, consumer: StreamConsumer, *, name: str, hard_stop: threading.Event
    ) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.consumer = consumer
        self.actor_name = f"worker:{name}"
        self.hard_stop = hard_stop
        self.max_deliveries = settings.worker_max_deliveries
        self.keep_alive_seconds = max(settings.worker_reclaim_idle_seconds / 3, 0.5)
        self.limits = Limits(
            max_decompressed_bytes=settings.max_decompressed_bytes,
            max_line_bytes=settings.max_line_bytes,
        )

    async def handle(self, delivery: Delivery) -> None:
        fields = delivery.fields
        job_id = job_id_of(fields)
        with structlog.contextvars.bound_contextvars(
            job_id=str(job_id) if job_id else None,
            request_id=fields.get("request_id"),
            message_id=delivery.message_id,
        ):
            if delivery.reclaimed:
                WORKER_RECLAIMS.inc()
                log.info("reclaimed a message", deliveries=delivery.deliveries)
            if delivery.deliveries > self.max_deliveries:
                await self._dead_letter(delivery, job_id)
                return
            # A malformed message raises here and stays pending: it is
            # redelivered until it is dead-lettered, like any poison message.
            message = JobMessage.from_fields(fields)
            outcome = await self._process(message, delivery)
            if outcome != "released":
                await self.consumer.ack(delivery.message_id)
            WORKER_JOBS.labels(outcome=outcome).inc()
            log.info("job handled", outcome=outcome)

    async def _dead_letter(self, delivery: Delivery, job_id: uuid.UUID | None) -> None:
        reason = f"the worker gave up after {delivery.deliveries - 1} deliveries of its message"
        if job_id is not None:
            actor = transitions.Actor(self.actor_name, delivery.fields.get("request_id"))
            await self.runtime.db.transaction(
                lambda session: transitions.give_up(
                    session, job_id=job_id, actor=actor, reason=reason
                )
            )
        await self.consumer.dead_letter(delivery, reason)
        WORKER_DEAD_LETTERS.inc()
        WORKER_JOBS.labels(outcome="dead-lettered").inc()
        log.error("message dead-lettered", reason=reason)

    async def _process(self, message: JobMessage, delivery: Delivery) -> str:
        actor = transitions.Actor(self.actor_name, message.request_id)
        try:
            job = await self.runtime.db.transaction(
                lambda session: transitions.begin_processing(
                    session, job_id=message.job_id, actor=actor
                )
            )
        except NotFound:
            # Deleted since, or, when it recurs, another service's job: two
            # services sharing a Redis database share its stream.
            log.warning("the message names a job this database does not have; dropping it")
            return "unknown-job"
        if job is None:
            return "skipped"
        flags = StopFlags(shutting_down=self.hard_stop)
        watcher = asyncio.create_task(self._watch(job.id, delivery.message_id, flags))
        try:
            processed = await anyio.to_thread.run_sync(
                lambda: process_object(
                    self.runtime.store,
                    job_id=job.id,
                    object_key=job.object_key,
                    limits=self.limits,
                    reference_time=job.created_at or datetime.now(UTC),
                    should_stop=flags.should_stop,
                )
            )
        except Stopped:
            return await self._stopped(job.id, flags, actor)
        except ProcessingError as error:
            await self._finish(job.id, JobState.FAILED, actor, reason=error.reason)
            return "failed"
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        return await self._complete(job.id, processed, actor)

    async def _complete(
        self, job_id: uuid.UUID, processed: ProcessedFile, actor: transitions.Actor
    ) -> str:
        result = {
            **processed.summary,
            "output_key": processed.output_key,
            "output_bytes": processed.output_bytes,
        }
        done = await self._finish(job_id, JobState.COMPLETED, actor, changes={"result": result})
        return "completed" if done else "cancelled"

    async def _stopped(self, job_id: uuid.UUID, flags: StopFlags, actor: transitions.Actor) -> str:
        if flags.cancelled.is_set():
            return "cancelled"
        # Shutdown: hand the job back; its message stays pending for another
        # worker to reclaim.
        await self._finish(job_id, JobState.QUEUED, actor, reason="released at worker shutdown")
        return "released"

    async def _finish(
        self,
        job_id: uuid.UUID,
        target: JobState,
        actor: transitions.Actor,
        *,
        reason: str | None = None,
        changes: dict[str, object] | None = None,
    ) -> bool:
        try:
            moved = await self.runtime.db.transaction(
                lambda session: transitions.finish_processing(
                    session,
                    job_id=job_id,
                    target=target,
                    actor=actor,
                    reason=reason,
                    changes=changes,
                )
            )
        except IllegalTransition:
            return False
        return moved is not None

    async def _watch(self, job_id: uuid.UUID, message_id: str, flags: StopFlags) -> None:
        """While the job runs: renew the claim and notice a cancellation."""
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        while True:
            await asyncio.sleep(WATCH_SECONDS)
            try:
                if loop.time() - renewed >= self.keep_alive_seconds:
                    await self.consumer.keep_alive(message_id)
                    renewed = loop.time()
                status = await self.runtime.db.read(
                    lambda session: transitions.status_of(session, job_id=job_id)
                )
            except Exception as error:  # a blip must not stop the job itself
                log.warning("could not renew the claim or read the job", error=str(error))
                continue
            if status is not JobState.PROCESSING:
                log.info("job left processing while running; stopping", status=str(status))
                flags.cancelled.set()
                return


async def consume(
    handler: MessageHandler, consumer: StreamConsumer, stopping: asyncio.Event
) -> None:
    """One consumer loop: reclaimed messages first, then new ones, until stopped."""
    backoff = 0.5
    while not stopping.is_set():
        try:
            deliveries = await consumer.reclaim() or await consumer.read_new(block_ms=1000)
            for delivery in deliveries:
                await handler.handle(delivery)
            backoff = 0.5
        except Exception:
            log.exception("message handling failed; it stays pending")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=backoff)
            backoff = min(backoff * 2, 10.0)

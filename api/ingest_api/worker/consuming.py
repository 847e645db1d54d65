"""What a worker does with one delivered message (its loop: `worker.reading`).

Exactly-once in effect over an at-least-once stream:
- the job moves `queued -> processing -> completed|failed` through the same
  state machine as the API, each move conditional, so a duplicate delivery
  finds nothing to do and produces no second `completed`;
- the output key is derived from the job id, so a redo overwrites the same
  object with the same bytes;
- the message is acknowledged only after the job's new state is committed.
Every error is classified once (`failures`): a file that cannot be processed
fails its job at once, with its code; an unreachable dependency makes the
step wait and retry in place, the message kept claimed, so an outage never
counts against the file; anything else is a bug, which fails the job with
"internal error while processing" instead of looping. A malformed message is
dead-lettered at once. Only a message whose worker died with it (reclaimed
past `max_deliveries`: a file that crashes the process) is given up on.
A job cancelled while it runs stops at the next chunk. On shutdown the
running job is handed back (`queued`) and its message left pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import anyio.to_thread
import structlog
from opentelemetry.trace import SpanKind

from ingest_api.core.errors import IllegalTransition, NotFound
from ingest_api.core.logging import get_logger
from ingest_api.core.metrics import (
    WORKER_DEAD_LETTERS,
    WORKER_FAILURES,
    WORKER_JOBS,
    WORKER_RECLAIMS,
)
from ingest_api.core.tracing import TRACER, context_from
from ingest_api.jobs import transitions
from ingest_api.jobs.models import Job
from ingest_api.jobs.states import JobState
from ingest_api.processing.errors import ProcessingError
from ingest_api.processing.models import Limits
from ingest_api.queue.consumer import Delivery, StreamConsumer
from ingest_api.queue.schemas import JobMessage
from ingest_api.runtime import Runtime
from ingest_api.worker.failures import DEAD_LETTERED_CODE, INTERNAL_ERROR_CODE
from ingest_api.worker.objects import ObjectToProcess, ProcessedFile, Stopped, process_object
from ingest_api.worker.waiting import retry_while_unreachable

log = get_logger(__name__)


T = TypeVar("T")

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
            max_compression_ratio=settings.max_compression_ratio,
            max_line_bytes=settings.max_line_bytes,
            max_seconds=settings.max_processing_seconds,
        )

    async def handle(self, delivery: Delivery) -> None:
        try:
            await self._handle(delivery)
        except Stopped:
            log.info("stopping while a dependency is unreachable; the message stays pending")

    async def _handle(self, delivery: Delivery) -> None:
        fields = delivery.fields
        job_id = job_id_of(fields)
        with (
            TRACER.start_as_current_span(
                "handle job message",
                context=context_from(fields),
                kind=SpanKind.CONSUMER,
                attributes={
                    "messaging.message.id": delivery.message_id,
                    "ingest.job_id": str(job_id) if job_id else "",
                    "ingest.deliveries": delivery.deliveries,
                },
            ),
            structlog.contextvars.bound_contextvars(
                job_id=str(job_id) if job_id else None,
                request_id=fields.get("request_id"),
                message_id=delivery.message_id,
            ),
        ):
            if delivery.reclaimed:
                WORKER_RECLAIMS.inc()
                log.info("reclaimed a message", deliveries=delivery.deliveries)
            if delivery.deliveries > self.max_deliveries:
                await self._give_up(delivery, job_id)
                return
            try:
                message = JobMessage.from_fields(fields)
            except ValueError as error:
                # It would be as malformed on every delivery; the job it may
                # name is left alone (its own message is the well-formed one).
                await self._dead_letter(delivery, f"malformed message: {error}")
                return
            try:
                outcome = await self._handle_job(message, delivery)
            except Exception:
                outcome = await self._fail_on_internal_error(message, delivery)
            if outcome != "released":
                await self._retrying(lambda: self.consumer.ack(delivery.message_id), delivery)
            WORKER_JOBS.labels(outcome=outcome).inc()
            log.info("job handled", outcome=outcome)

    async def _handle_job(self, message: JobMessage, delivery: Delivery) -> str:
        actor = transitions.Actor(self.actor_name, message.request_id)
        try:
            with TRACER.start_as_current_span("pick up job"):
                job = await self._retrying(
                    lambda: self.runtime.db.transaction(
                        lambda session: transitions.begin_processing(
                            session, job_id=message.job_id, actor=actor
                        )
                    ),
                    delivery,
                )
        except NotFound:
            # Deleted since, or, when it recurs, another service's job: two
            # services sharing a Redis database share its stream.
            log.warning("the message names a job this database does not have; dropping it")
            return "unknown-job"
        except Stopped:
            return "released"
        if job is None:
            return "skipped"
        flags = StopFlags(shutting_down=self.hard_stop)
        watcher = asyncio.create_task(self._watch(job.id, delivery.message_id, flags))
        try:
            return await self._process(job, actor, flags, delivery)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _process(
        self, job: Job, actor: transitions.Actor, flags: StopFlags, delivery: Delivery
    ) -> str:
        upload = ObjectToProcess(
            job_id=job.id,
            key=job.object_key,
            etag=job.object_etag,
            version=job.object_version,
            sha256=job.sha256,
            reference_time=job.created_at or datetime.now(UTC),
        )
        try:
            # The thread runs in a copy of this context: its spans join the trace.
            processed = await self._retrying(
                lambda: anyio.to_thread.run_sync(
                    lambda: process_object(
                        self.runtime.store,
                        upload,
                        limits=self.limits,
                        should_stop=flags.should_stop,
                    )
                ),
                delivery,
            )
        except Stopped:
            return await self._stopped(job.id, flags, actor)
        except ProcessingError as error:
            return await self._fail(job.id, actor, delivery, code=error.code, reason=error.reason)
        return await self._complete(job.id, processed, actor, delivery)

    async def _complete(
        self,
        job_id: uuid.UUID,
        processed: ProcessedFile,
        actor: transitions.Actor,
        delivery: Delivery,
    ) -> str:
        result = {
            **processed.summary,
            "output_key": processed.output_key,
            "output_bytes": processed.output_bytes,
        }
        done = await self._retrying(
            lambda: self._finish(job_id, JobState.COMPLETED, actor, changes={"result": result}),
            delivery,
        )
        return "completed" if done else "cancelled"

    async def _fail(
        self,
        job_id: uuid.UUID,
        actor: transitions.Actor,
        delivery: Delivery,
        *,
        code: str,
        reason: str,
    ) -> str:
        failed = await self._retrying(
            lambda: self._finish(
                job_id, JobState.FAILED, actor, reason=reason, changes={"failure_code": code}
            ),
            delivery,
        )
        if not failed:
            return "cancelled"
        WORKER_FAILURES.labels(code=code).inc()
        return "failed"

    async def _fail_on_internal_error(self, message: JobMessage, delivery: Delivery) -> str:
        """A bug of ours met this job: fail it, say so, and move on."""
        log.exception("internal error while processing; failing the job")
        WORKER_FAILURES.labels(code=INTERNAL_ERROR_CODE).inc()
        reference = message.request_id or f"message {delivery.message_id}"
        reason = f"internal error while processing (request id {reference})"
        actor = transitions.Actor(self.actor_name, message.request_id)
        try:
            await self._fail_whatever_its_state(
                message.job_id, actor, delivery, reason=reason, code=INTERNAL_ERROR_CODE
            )
        except Stopped:
            return "released"
        except Exception:
            # Not even the failure could be recorded: keep the message for a
            # person to look at rather than loop on it.
            log.exception("could not fail the job; dead-lettering its message")
            await self._dead_letter(delivery, reason)
            return "dead-lettered"
        return "failed"

    async def _stopped(self, job_id: uuid.UUID, flags: StopFlags, actor: transitions.Actor) -> str:
        if flags.cancelled.is_set():
            return "cancelled"
        # Shutdown: hand the job back; its message stays pending for another
        # worker to reclaim (which also takes the job over if this fails).
        try:
            await self._finish(job_id, JobState.QUEUED, actor, reason="released at worker shutdown")
        except Exception as error:
            log.warning("could not hand the job back at shutdown", error=str(error))
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
            with TRACER.start_as_current_span("finish job", attributes={"ingest.state": target}):
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

    async def _give_up(self, delivery: Delivery, job_id: uuid.UUID | None) -> None:
        """A message delivered too often (its workers died with it): fail its job."""
        reason = f"the worker gave up after {delivery.deliveries - 1} deliveries of its message"
        if job_id is not None:
            actor = transitions.Actor(self.actor_name, delivery.fields.get("request_id"))
            await self._fail_whatever_its_state(
                job_id, actor, delivery, reason=reason, code=DEAD_LETTERED_CODE
            )
        await self._dead_letter(delivery, reason)

    async def _fail_whatever_its_state(
        self,
        job_id: uuid.UUID,
        actor: transitions.Actor,
        delivery: Delivery,
        *,
        reason: str,
        code: str,
    ) -> None:
        """`transitions.give_up`, retried while a dependency is unreachable."""
        await self._retrying(
            lambda: self.runtime.db.transaction(
                lambda session: transitions.give_up(
                    session, job_id=job_id, actor=actor, reason=reason, code=code
                )
            ),
            delivery,
        )

    async def _dead_letter(self, delivery: Delivery, reason: str) -> None:
        await self._retrying(lambda: self.consumer.dead_letter(delivery, reason), delivery)
        WORKER_DEAD_LETTERS.inc()
        WORKER_JOBS.labels(outcome="dead-lettered").inc()
        log.error("message dead-lettered", reason=reason)

    async def _retrying(self, step: Callable[[], Awaitable[T]], delivery: Delivery) -> T:
        """`step()`, waited out while a dependency is unreachable, the message's
        claim kept meanwhile (`worker.waiting`)."""
        return await retry_while_unreachable(
            step,
            keep_claim=lambda: self.consumer.keep_alive(delivery.message_id),
            hard_stop=self.hard_stop,
        )

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

"""Every change of a job's state, in one place, and the worker's moves.

`transition` checks the move against the state machine, applies it with a
conditional UPDATE (so a racing mover cannot also win), records a job event
and, once committed, counts and logs it; all in the caller's transaction.
The API's service and the worker both move jobs through here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_api.core.db import after_commit
from ingest_api.core.errors import IllegalTransition, NotFound
from ingest_api.core.logging import get_logger
from ingest_api.core.metrics import JOB_STATE_SECONDS, JOB_TRANSITIONS
from ingest_api.jobs.models import Job, JobEvent
from ingest_api.jobs.states import JobState, check_transition
from ingest_api.users.models import Principal

log = get_logger(__name__)


@dataclass(frozen=True)
class Actor:
    """Who moves a job, for its history: a user or a worker."""

    name: str
    request_id: str | None = None
    # A user's credential kind and source (`Credential.via`); None for workers.
    via: str | None = None

    # A user's name in the history is this prefix and their username.
    USER_PREFIX: ClassVar[str] = "user:"

    @classmethod
    def user(cls, user: Principal, request_id: str | None) -> Actor:
        return cls(name=f"{cls.USER_PREFIX}{user.username}", request_id=request_id, via=user.via)


# --- the one place a job changes state ---------------------------------------


async def transition(
    session: AsyncSession,
    *,
    job: Job,
    target: JobState,
    actor: Actor,
    reason: str | None = None,
    changes: dict[str, Any] | None = None,
) -> Job:
    """Move `job` to `target` (with optional column `changes`) and record it."""
    current = JobState(job.status)
    check_transition(current, target)
    # When the job entered its current state: it is created `created`; after
    # that only moves (and the recovery, which restarts a wait) write `updated_at`.
    entered = job.created_at if current is JobState.CREATED else job.updated_at
    now = datetime.now(UTC)
    values = {"status": target.value, "updated_at": now, **(changes or {})}
    # The job shows why it failed; a job queued again starts clean.
    if target is JobState.FAILED:
        values.setdefault("failure_reason", reason)
    elif target is JobState.QUEUED:
        values.setdefault("failure_reason", None)
        values.setdefault("failure_code", None)
    moved: Job | None = await session.scalar(
        update(Job)
        .where(Job.id == job.id, Job.status == current.value)
        .values(**values)
        .returning(Job),
        execution_options={"populate_existing": True},
    )
    if moved is None:
        raise IllegalTransition(
            f"job {job.id} changed state meanwhile; it is no longer '{current}'"
        )
    await record_event(
        session, job=job, from_status=current, to_status=target, actor=actor, reason=reason
    )

    def committed() -> None:
        JOB_TRANSITIONS.labels(state=target.value).inc()
        if entered is not None:
            JOB_STATE_SECONDS.labels(state=current.value).observe(
                max((now - entered).total_seconds(), 0.0)
            )
        log.info(
            "job state changed",
            job_id=str(job.id),
            from_status=current.value,
            to_status=target.value,
            actor=actor.name,
            via=actor.via,
            reason=reason,
        )

    after_commit(session, committed)
    return moved


async def record_event(
    session: AsyncSession,
    *,
    job: Job,
    from_status: JobState,
    to_status: JobState,
    actor: Actor,
    reason: str | None,
) -> None:
    """Add a line to the job's history, in the caller's transaction."""
    session.add(
        JobEvent(
            job_id=job.id,
            from_status=from_status.value,
            to_status=to_status.value,
            reason=reason,
            actor=actor.name,
            request_id=actor.request_id,
            via=actor.via,
        )
    )
    await session.flush()


# --- the worker's moves -------------------------------------------------------------


async def begin_processing(session: AsyncSession, *, job_id: uuid.UUID, actor: Actor) -> Job | None:
    """The job to process now, moved to `processing`; None when there is
    nothing to do (finished or cancelled: a duplicate delivery). NotFound when
    this database has no such job."""
    job = await session.get(Job, job_id, with_for_update=True)
    if job is None:
        raise NotFound(f"job {job_id} does not exist in this service's database")
    if job.status == JobState.QUEUED.value:
        return await transition(
            session,
            job=job,
            target=JobState.PROCESSING,
            actor=actor,
            reason="picked up",
            changes={"attempts": job.attempts + 1},
        )
    if job.status == JobState.PROCESSING.value:
        # A reclaimed message: its first worker died mid-job. Take it over.
        return job
    return None


async def finish_processing(
    session: AsyncSession,
    *,
    job_id: uuid.UUID,
    target: JobState,
    actor: Actor,
    reason: str | None = None,
    changes: dict[str, Any] | None = None,
) -> Job | None:
    """Move a job out of `processing`; None if it already left (cancelled)."""
    job = await session.get(Job, job_id, with_for_update=True)
    if job is None or job.status != JobState.PROCESSING.value:
        return None
    return await transition(
        session, job=job, target=target, actor=actor, reason=reason, changes=changes
    )


async def give_up(
    session: AsyncSession, *, job_id: uuid.UUID, actor: Actor, reason: str, code: str
) -> Job | None:
    """Fail a job the worker cannot finish (its message was dead-lettered, or
    an internal error), wherever it stood."""
    job = await session.get(Job, job_id, with_for_update=True)
    if job is None or job.status not in {JobState.QUEUED.value, JobState.PROCESSING.value}:
        return None
    return await transition(
        session,
        job=job,
        target=JobState.FAILED,
        actor=actor,
        reason=reason,
        changes={"failure_code": code},
    )


async def status_of(session: AsyncSession, *, job_id: uuid.UUID) -> JobState | None:
    status = await session.scalar(select(Job.status).where(Job.id == job_id))
    return JobState(status) if status is not None else None

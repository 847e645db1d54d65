"""Finding jobs whose message was lost, and queueing them again.

A job in `queued` or `processing` is owed a delivery: a message in the
outbox not yet relayed, or one the stream still promises
(`queue.promised`). When Redis restarts without its data, or a message is
dead-lettered before its job could be failed, neither exists and the job
would wait for ever. The recovery (`worker.recovery`, run by every worker)
looks for jobs that have not moved for a while, asks the stream which it
still promises, and takes over the others:

- each takeover is conditional on the job being exactly as it was seen
  (status and `updated_at`, under a row lock), so replicas recovering at
  once, or a worker finishing the job meanwhile, never cause a second
  message;
- it is recorded in the job's history (`processing -> queued`, or
  `queued -> queued` for a message lost before any worker took it) and the
  new message goes through the outbox, in the same transaction;
- a job taken over `max_takeovers` times fails with `lost_repeatedly`
  instead of going round again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import String, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_api.jobs.models import Job, JobEvent
from ingest_api.jobs.states import JobState
from ingest_api.jobs.transitions import Actor, record_event, transition
from ingest_api.queue import service as queue
from ingest_api.queue.models import OutboxMessage
from ingest_api.queue.schemas import JobMessage

# Who takes jobs over, in their history: this prefix and the worker's name.
RECOVERY_ACTOR_PREFIX = "recovery:"
LOST_REPEATEDLY_CODE = "lost_repeatedly"
OWED_A_DELIVERY = (JobState.QUEUED.value, JobState.PROCESSING.value)


@dataclass(frozen=True)
class JobSeen:
    """A job as the recovery saw it: taken over only if still exactly so."""

    id: uuid.UUID
    status: str
    updated_at: datetime


async def unmoved_jobs(
    session: AsyncSession, *, stream: str, since: datetime, limit: int
) -> list[JobSeen]:
    """Jobs owed a delivery that have not moved since `since` and have no
    unsent outbox message (that one is still on its way), oldest first."""
    job_id = OutboxMessage.payload["job_id"].astext
    # No NULL may reach NOT IN: one would make it match no job at all.
    unsent = select(job_id).where(
        OutboxMessage.sent_at.is_(None), OutboxMessage.stream == stream, job_id.is_not(None)
    )
    rows = await session.execute(
        select(Job.id, Job.status, Job.updated_at)
        .where(
            Job.status.in_(OWED_A_DELIVERY),
            Job.updated_at < since,
            cast(Job.id, String).not_in(unsent),
        )
        .order_by(Job.updated_at)
        .limit(limit)
    )
    return [JobSeen(row.id, row.status, row.updated_at) for row in rows]


async def take_over(
    session: AsyncSession,
    seen: JobSeen,
    *,
    actor: Actor,
    stream: str,
    max_takeovers: int,
) -> JobState | None:
    """Queue a lost job again (or fail it, past `max_takeovers`); the state
    it is in now, or None when it moved since it was seen."""
    job = await session.get(Job, seen.id, with_for_update=True, populate_existing=True)
    if job is None or (job.status, job.updated_at) != (seen.status, seen.updated_at):
        return None
    if await _takeovers(session, job.id) >= max_takeovers:
        failed = await transition(
            session,
            job=job,
            target=JobState.FAILED,
            actor=actor,
            reason=f"its message was lost {max_takeovers} times; given up",
            changes={"failure_code": LOST_REPEATEDLY_CODE},
        )
        return JobState(failed.status)
    reason = "its message was lost; queued again"
    if job.status == JobState.PROCESSING.value:
        await transition(session, job=job, target=JobState.QUEUED, actor=actor, reason=reason)
    else:
        await _record_queued_again(session, job, actor=actor, reason=reason)
    message = JobMessage(job_id=job.id, request_id=job.request_id, attempt=job.attempts + 1)
    await queue.enqueue(session, stream=stream, message=message)
    return JobState.QUEUED


async def _record_queued_again(
    session: AsyncSession, job: Job, *, actor: Actor, reason: str
) -> None:
    """A `queued -> queued` event: no state moves (the state machine has no
    such move), the job's history and `updated_at` say it was taken over."""
    await session.execute(update(Job).where(Job.id == job.id).values(updated_at=datetime.now(UTC)))
    await record_event(
        session,
        job=job,
        from_status=JobState.QUEUED,
        to_status=JobState.QUEUED,
        actor=actor,
        reason=reason,
    )


async def _takeovers(session: AsyncSession, job_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count())
        .select_from(JobEvent)
        .where(JobEvent.job_id == job_id, JobEvent.actor.startswith(RECOVERY_ACTOR_PREFIX))
    )
    return int(count or 0)

"""The job lifecycle as the API drives it after creation: presign, complete,
cancel, retry, list, history. Every state change goes through
`transitions.transition`; creating and reading one job are the driver's hot
paths, in `jobs.sql`."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from pydantic import AwareDatetime, TypeAdapter
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_api.core.config import Settings
from ingest_api.core.db import Database, after_commit
from ingest_api.core.errors import Conflict, IllegalTransition, InvalidRequest
from ingest_api.core.tracing import current_trace_context
from ingest_api.jobs.models import Job, JobEvent, JobRow
from ingest_api.jobs.multipart import join_parts
from ingest_api.jobs.rules import check_visible, require_uploader
from ingest_api.jobs.states import JobState, check_transition
from ingest_api.jobs.transitions import Actor, transition
from ingest_api.queue import service as queue
from ingest_api.queue.schemas import JobMessage
from ingest_api.storage.multipart import PartUploads
from ingest_api.storage.service import ObjectStore, PresignedUpload, StoredObject
from ingest_api.users.models import Principal, Role

MAX_PAGE_SIZE = 100
# What a cursor holds: the last job's creation time and id, as JSON.
_CURSOR = TypeAdapter(tuple[AwareDatetime, uuid.UUID])


# --- access -----------------------------------------------------------------


async def get_visible(session: AsyncSession, *, job_id: uuid.UUID, user: Principal) -> Job:
    """The job, if this user may see it, for a change in this session."""
    return check_visible(await session.get(Job, job_id), job_id=job_id, user=user)


# --- upload ------------------------------------------------------------------------


def presign_upload(store: ObjectStore, settings: Settings, *, job: JobRow) -> PresignedUpload:
    return store.presign_upload(
        key=job.object_key,
        content_type=job.content_type,
        size=job.size_bytes,
        sha256=job.sha256,
        ttl_seconds=settings.upload_url_ttl_seconds,
        metadata={"job-id": str(job.id)},
    )


# --- complete, cancel, retry --------------------------------------------------------


def check_upload(job: Job, stored: StoredObject | None) -> StoredObject:
    """The object must be there, of the declared size and type (pure)."""
    if stored is None:
        if job.status == JobState.CREATED.value:
            raise Conflict(f"the file for job {job.id} has not been uploaded yet")
        raise Conflict(f"the file for job {job.id} is no longer in storage")
    if stored.size != job.size_bytes:
        raise Conflict(
            f"the uploaded file has {stored.size} bytes; the job declared {job.size_bytes}"
        )
    if stored.content_type and stored.content_type.lower() != job.content_type:
        raise Conflict(
            f"the uploaded file is '{stored.content_type}'; the job declared '{job.content_type}'"
        )
    return stored


async def _queue(
    session: AsyncSession,
    settings: Settings,
    *,
    job: Job,
    actor: Actor,
    reason: str,
    changes: dict[str, object] | None = None,
) -> Job:
    queued = await transition(
        session, job=job, target=JobState.QUEUED, actor=actor, reason=reason, changes=changes
    )
    message = JobMessage.for_job(
        job.id,
        request_id=actor.request_id,
        attempt=queued.attempts + 1,
        trace_context=current_trace_context(),
    )
    await queue.enqueue(session, stream=settings.queue_stream, message=message)
    return queued


@dataclass(frozen=True)
class QueueStep:
    """A way into `queued` once the file is verified: `check` refuses a job
    that may not take it, or names the columns it changes."""

    check: Callable[[Job, Settings], dict[str, object]]
    reason: str


def _check_complete(job: Job, settings: Settings) -> dict[str, object]:
    check_transition(JobState(job.status), JobState.QUEUED)
    return {}


def _check_retry(job: Job, settings: Settings) -> dict[str, object]:
    if job.status != JobState.FAILED.value:
        raise IllegalTransition(f"only a failed job can be retried; this one is '{job.status}'")
    if job.retries >= settings.max_job_retries:
        raise Conflict(
            f"job {job.id} was retried {job.retries} times, the limit; "
            "create a new job to process the file again"
        )
    return {"retries": job.retries + 1}


COMPLETE = QueueStep(_check_complete, reason="upload verified")
# The object may have expired, or been uploaded anew, since the job failed.
RETRY = QueueStep(_check_retry, reason="retried by the user")


async def queue_verified(
    db: Database,
    store: ObjectStore,
    settings: Settings,
    step: QueueStep,
    *,
    job_id: uuid.UUID,
    user: Principal,
    request_id: str | None,
    on_queued: Callable[[], None] | None = None,
) -> Job:
    """Verify the job's file, then move the job to `queued` with its queue
    message, as `step` allows."""

    async def load(session: AsyncSession) -> Job:
        require_uploader(user)
        job = await get_visible(session, job_id=job_id, user=user)
        step.check(job, settings)
        return job

    job = await db.transaction(load)
    # The storage is asked outside any transaction: no row is locked while
    # the network answers. The move below is conditional, so a race is safe.
    if step is COMPLETE and job.part_size_bytes is not None:
        await join_parts(PartUploads(store), job)
    stored = check_upload(job, await store.head(key=job.object_key))

    async def mark_queued(session: AsyncSession) -> Job:
        current = await get_visible(session, job_id=job_id, user=user)
        # The worker reads exactly these bytes: a file uploaded again after
        # this check (the POST policy stays valid until it expires) is not
        # processed.
        changes = {
            **step.check(current, settings),
            "object_etag": stored.etag,
            "object_version": stored.version_id,
        }
        queued = await _queue(
            session,
            settings,
            job=current,
            actor=Actor.user(user, request_id),
            reason=step.reason,
            changes=changes,
        )
        if on_queued is not None:
            after_commit(session, on_queued)
        return queued

    return await db.transaction(mark_queued)


async def cancel(
    session: AsyncSession, *, job_id: uuid.UUID, user: Principal, request_id: str | None
) -> Job:
    require_uploader(user)
    job = await get_visible(session, job_id=job_id, user=user)
    return await transition(
        session,
        job=job,
        target=JobState.CANCELLED,
        actor=Actor.user(user, request_id),
        reason="cancelled by the user",
    )


# --- read -------------------------------------------------------------------------


def encode_cursor(job: Job) -> str:
    raw = json.dumps([job.created_at.isoformat(), str(job.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    """The position a cursor from `encode_cursor` names; InvalidRequest for
    anything else, whatever it holds."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return _CURSOR.validate_json(raw)
    except (ValueError, binascii.Error) as error:  # pydantic's ValidationError is a ValueError
        raise InvalidRequest("the cursor is not one this API issued", field="cursor") from error


async def list_visible(
    session: AsyncSession,
    *,
    user: Principal,
    status: JobState | None = None,
    label: tuple[str, str] | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Job], str | None]:
    """Newest first, a page at a time; (jobs, cursor of the next page or None)."""
    query = select(Job)
    if user.role != Role.ADMIN.value:
        query = query.where(Job.owner_id == user.id)
    if status is not None:
        query = query.where(Job.status == status.value)
    if label is not None:
        query = query.where(Job.labels.contains({label[0]: label[1]}))
    if cursor is not None:
        created_at, job_id = decode_cursor(cursor)
        query = query.where(tuple_(Job.created_at, Job.id) < tuple_(created_at, job_id))
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    rows = list(
        await session.scalars(query.order_by(Job.created_at.desc(), Job.id.desc()).limit(limit + 1))
    )
    page = rows[:limit]
    return page, encode_cursor(page[-1]) if len(rows) > limit else None


async def events(session: AsyncSession, *, job_id: uuid.UUID, user: Principal) -> list[JobEvent]:
    await get_visible(session, job_id=job_id, user=user)
    return list(
        await session.scalars(
            select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id)
        )
    )

"""The job lifecycle as the API drives it: create, complete, cancel, retry,
read, list. Every state change goes through `transitions.transition`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_api.core.config import Settings
from ingest_api.core.db import Database, after_commit
from ingest_api.core.errors import Conflict, Forbidden, IllegalTransition, InvalidRequest, NotFound
from ingest_api.core.logging import get_logger
from ingest_api.core.metrics import JOB_TRANSITIONS
from ingest_api.jobs.models import IdempotencyKey, Job, JobEvent
from ingest_api.jobs.schemas import JobCreate
from ingest_api.jobs.states import JobState, check_transition
from ingest_api.jobs.transitions import Actor, transition
from ingest_api.queue import service as queue
from ingest_api.queue.schemas import JobMessage
from ingest_api.storage.service import ObjectStore, StoredObject
from ingest_api.users.models import Role, User

# Stripe keeps keys a day: long enough for any client's retries.
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)
MAX_PAGE_SIZE = 100

log = get_logger(__name__)


# --- access -----------------------------------------------------------------


def object_key_for(job_id: uuid.UUID) -> str:
    """The server chooses the key; the client's filename never reaches it."""
    return f"uploads/{job_id}"


def require_uploader(user: User) -> None:
    if user.role not in {Role.ADMIN.value, Role.UPLOADER.value}:
        raise Forbidden(f"the '{user.role}' role may read jobs but not create or change them")


async def get_visible(session: AsyncSession, *, job_id: uuid.UUID, user: User) -> Job:
    """The job, if this user may see it. Others' jobs are 'not found', so their
    existence is not revealed."""
    job = await session.get(Job, job_id)
    if job is None or (job.owner_id != user.id and user.role != Role.ADMIN.value):
        raise NotFound(f"job {job_id} does not exist")
    return job


# --- create --------------------------------------------------------------------


def check_acceptable(settings: Settings, data: JobCreate) -> None:
    """What the configuration allows, beyond the schema's own checks."""
    if data.content_type not in settings.allowed_content_types:
        raise InvalidRequest(
            f"content type '{data.content_type}' is not allowed; allowed: "
            + ", ".join(settings.allowed_content_types),
            field="content_type",
        )
    if data.size_bytes > settings.max_upload_bytes:
        raise InvalidRequest(
            f"the file is larger than the limit of {settings.max_upload_bytes} bytes",
            field="size_bytes",
        )


def request_fingerprint(data: JobCreate) -> str:
    canonical = json.dumps(data.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _claim_idempotency_key(
    session: AsyncSession, *, user: User, key: str, fingerprint: str, job_id: uuid.UUID
) -> uuid.UUID | None:
    """Claim `key` for a new job; if it is taken, the job it already names.

    The INSERT waits on the unique index while a concurrent request holding
    the same key is in flight, then sees its committed row: a retry racing
    the original gets the same job rather than a second one."""
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user.id,
            IdempotencyKey.key == key,
            IdempotencyKey.created_at < datetime.now(UTC) - IDEMPOTENCY_KEY_TTL,
        )
    )
    claimed = await session.scalar(
        insert(IdempotencyKey)
        .values(user_id=user.id, key=key, fingerprint=fingerprint, job_id=job_id)
        .on_conflict_do_nothing()
        .returning(IdempotencyKey.key)
    )
    if claimed is not None:
        return None
    existing = await session.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user.id, IdempotencyKey.key == key)
    )
    if existing is None:  # pragma: no cover - deleted between the two statements
        raise Conflict("the Idempotency-Key is being reused concurrently; retry")
    if existing.fingerprint != fingerprint:
        raise InvalidRequest(
            "this Idempotency-Key was already used with a different request body",
            field="Idempotency-Key",
        )
    return existing.job_id


async def create(
    session: AsyncSession,
    settings: Settings,
    *,
    user: User,
    data: JobCreate,
    request_id: str | None,
    idempotency_key: str | None = None,
) -> tuple[Job, bool]:
    """A new job in `created`; with an Idempotency-Key seen before (same body),
    the job made then. Returns the job and whether it is new."""
    require_uploader(user)
    check_acceptable(settings, data)
    job_id = uuid.uuid4()
    if idempotency_key is not None:
        earlier = await _claim_idempotency_key(
            session,
            user=user,
            key=idempotency_key,
            fingerprint=request_fingerprint(data),
            job_id=job_id,
        )
        if earlier is not None:
            return await get_visible(session, job_id=earlier, user=user), False
    job = Job(
        id=job_id,
        owner_id=user.id,
        status=JobState.CREATED.value,
        filename=data.filename,
        content_type=data.content_type,
        size_bytes=data.size_bytes,
        sha256=data.sha256,
        labels=data.labels,
        object_key=object_key_for(job_id),
        request_id=request_id,
        attempts=0,
    )
    session.add(job)
    session.add(
        JobEvent(
            job_id=job_id,
            from_status=None,
            to_status=JobState.CREATED.value,
            actor=Actor.user(user, request_id).name,
            request_id=request_id,
        )
    )
    await session.flush()

    def committed() -> None:
        JOB_TRANSITIONS.labels(state=JobState.CREATED.value).inc()
        log.info("job created", job_id=str(job_id), size_bytes=data.size_bytes)

    after_commit(session, committed)
    return job, True


def presign_upload(store: ObjectStore, settings: Settings, *, job: Job) -> Any:
    metadata = {"job-id": str(job.id)}
    if job.sha256:
        metadata["sha256"] = job.sha256
    return store.presign_upload(
        key=job.object_key,
        content_type=job.content_type,
        size=job.size_bytes,
        ttl_seconds=settings.upload_url_ttl_seconds,
        metadata=metadata,
    )


# --- complete, cancel, retry --------------------------------------------------------


def check_upload(job: Job, stored: StoredObject | None) -> None:
    """The object must be there, of the declared size and type (pure)."""
    if stored is None:
        raise Conflict(f"the file for job {job.id} has not been uploaded yet")
    if stored.size != job.size_bytes:
        raise Conflict(
            f"the uploaded file has {stored.size} bytes; the job declared {job.size_bytes}"
        )
    if stored.content_type and stored.content_type.lower() != job.content_type:
        raise Conflict(
            f"the uploaded file is '{stored.content_type}'; the job declared '{job.content_type}'"
        )


async def _queue(
    session: AsyncSession, settings: Settings, *, job: Job, actor: Actor, reason: str
) -> Job:
    queued = await transition(session, job=job, target=JobState.QUEUED, actor=actor, reason=reason)
    message = JobMessage(job_id=job.id, request_id=actor.request_id, attempt=queued.attempts + 1)
    await queue.enqueue(session, stream=settings.queue_stream, message=message)
    return queued


async def complete(
    db: Database,
    store: ObjectStore,
    settings: Settings,
    *,
    job_id: uuid.UUID,
    user: User,
    request_id: str | None,
    on_queued: Callable[[], None] | None = None,
) -> Job:
    """Verify the upload, then move the job to `queued` with its queue message."""

    async def load(session: AsyncSession) -> Job:
        require_uploader(user)
        job = await get_visible(session, job_id=job_id, user=user)
        check_transition(JobState(job.status), JobState.QUEUED)
        return job

    job = await db.transaction(load)
    # The storage is asked outside any transaction: no row is locked while
    # the network answers. The move below is conditional, so a race is safe.
    check_upload(job, await store.head(key=job.object_key))

    async def mark_queued(session: AsyncSession) -> Job:
        current = await get_visible(session, job_id=job_id, user=user)
        queued = await _queue(
            session,
            settings,
            job=current,
            actor=Actor.user(user, request_id),
            reason="upload verified",
        )
        if on_queued is not None:
            after_commit(session, on_queued)
        return queued

    return await db.transaction(mark_queued)


async def cancel(
    session: AsyncSession, *, job_id: uuid.UUID, user: User, request_id: str | None
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


async def retry(
    session: AsyncSession,
    settings: Settings,
    *,
    job_id: uuid.UUID,
    user: User,
    request_id: str | None,
    on_queued: Callable[[], None] | None = None,
) -> Job:
    require_uploader(user)
    job = await get_visible(session, job_id=job_id, user=user)
    if job.status != JobState.FAILED.value:
        raise IllegalTransition(f"only a failed job can be retried; this one is '{job.status}'")
    queued = await _queue(
        session, settings, job=job, actor=Actor.user(user, request_id), reason="retried by the user"
    )
    if on_queued is not None:
        after_commit(session, on_queued)
    return queued


# --- read -------------------------------------------------------------------------


def encode_cursor(job: Job) -> str:
    raw = json.dumps([job.created_at.isoformat(), str(job.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, job_id = json.loads(raw)
        return datetime.fromisoformat(created_at), uuid.UUID(job_id)
    except (ValueError, TypeError, binascii.Error) as error:
        raise InvalidRequest("the cursor is not one this API issued", field="cursor") from error


async def list_visible(
    session: AsyncSession,
    *,
    user: User,
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


async def events(session: AsyncSession, *, job_id: uuid.UUID, user: User) -> list[JobEvent]:
    await get_visible(session, job_id=job_id, user=user)
    return list(
        await session.scalars(
            select(JobEvent).where(JobEvent.job_id == job_id).order_by(JobEvent.id)
        )
    )

"""Jobs whose file is uploaded in parts: the parts' URLs, the parts storage
holds (to resume), joining them on /complete, and dropping them on cancel.

The storage's multipart upload starts with the first request for part URLs,
not with the job: most jobs are small, and a job never uploaded then leaves
nothing in storage. Two such first requests at once each start one; the one
whose id is stored first wins and the other is aborted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

from ingest_api.core.config import Settings
from ingest_api.core.db import Database, DriverConnection
from ingest_api.core.errors import Conflict, DependencyUnavailable
from ingest_api.core.logging import get_logger
from ingest_api.jobs.models import Job, JobRow
from ingest_api.jobs.parts import check_complete, part_count, part_length
from ingest_api.jobs.schemas import (
    PartRequest,
    PartUploadPublic,
    PartUploadsPublic,
    StoredPartPublic,
    StoredPartsPublic,
)
from ingest_api.jobs.states import JobState
from ingest_api.storage.multipart import PartUploads

log = get_logger(__name__)

_SET_UPLOAD_ID: Final = (
    "UPDATE jobs SET upload_id = %s WHERE id = %s AND upload_id IS NULL RETURNING upload_id"
)
_SELECT_UPLOAD_ID: Final = "SELECT upload_id FROM jobs WHERE id = %s"


def parts_of(job: Job | JobRow) -> int:
    """The job's part size, if its file is uploaded in parts and still awaited."""
    if job.part_size_bytes is None:
        raise Conflict(
            f"job {job.id} is uploaded in one POST (GET /v1/jobs/{job.id}/upload); it has no parts"
        )
    if job.status != JobState.CREATED.value:
        raise Conflict(f"job {job.id} is '{job.status}'; parts are for 'created' jobs")
    return job.part_size_bytes


async def upload_id_of(db: Database, uploads: PartUploads, job: JobRow) -> str:
    """The job's multipart upload, started now if it has none yet."""
    if job.upload_id:
        return job.upload_id
    started = await uploads.start(
        key=job.object_key, content_type=job.content_type, metadata={"job-id": str(job.id)}
    )

    async def record(conn: DriverConnection) -> str | None:
        row = await (await conn.execute(_SET_UPLOAD_ID, (started, job.id))).fetchone()
        if row is not None:
            return started
        row = await (await conn.execute(_SELECT_UPLOAD_ID, (job.id,))).fetchone()
        return row[0] if row else None

    chosen = await db.run(record)
    if chosen != started:  # another request's upload was recorded first
        await uploads.abort(key=job.object_key, upload_id=started)
    if chosen is None:
        raise Conflict(f"job {job.id} no longer exists")
    return chosen


async def presign_parts(
    db: Database,
    uploads: PartUploads,
    settings: Settings,
    *,
    job: JobRow,
    wanted: list[PartRequest],
) -> PartUploadsPublic:
    """A PUT URL for each part asked for, signed for its exact length (and
    SHA-256, when given)."""
    part_size = parts_of(job)
    # Every number checked before storage is asked to start anything.
    lengths = [part_length(job.size_bytes, part_size, part.part_number) for part in wanted]
    upload_id = await upload_id_of(db, uploads, job)
    ttl = settings.upload_url_ttl_seconds
    parts = []
    for part, length in zip(wanted, lengths, strict=True):
        url, headers = uploads.presign_part(
            key=job.object_key,
            upload_id=upload_id,
            number=part.part_number,
            length=length,
            ttl_seconds=ttl,
            sha256=part.sha256,
        )
        parts.append(
            PartUploadPublic(
                part_number=part.part_number, size_bytes=length, url=url, headers=headers
            )
        )
    return PartUploadsPublic(
        parts=parts, expires_at=datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=ttl)
    )


async def stored_parts(uploads: PartUploads, *, job: JobRow) -> StoredPartsPublic:
    """The parts storage holds for the job: what a client resuming skips."""
    part_size = parts_of(job)
    held = (
        await uploads.list_parts(key=job.object_key, upload_id=job.upload_id)
        if job.upload_id
        else []
    )
    return StoredPartsPublic(
        part_size_bytes=part_size,
        part_count=part_count(job.size_bytes, part_size),
        parts=[
            StoredPartPublic(
                part_number=part.number, size_bytes=part.size, etag=part.etag, sha256=part.sha256
            )
            for part in held or []
        ],
    )


async def join_parts(uploads: PartUploads, job: Job) -> None:
    """Join the parts into the file, if storage holds every one of them at
    its exact length. An upload already joined (a /complete retried after
    its answer was lost) is left to the object check that follows."""
    part_size = parts_of(job)
    if job.upload_id is None:
        raise Conflict(f"no part of job {job.id} has been uploaded yet")
    held = await uploads.list_parts(key=job.object_key, upload_id=job.upload_id)
    if held is None:
        return
    check_complete(held, size=job.size_bytes, part_size=part_size)
    await uploads.complete(key=job.object_key, upload_id=job.upload_id, parts=held)


async def drop_parts(uploads: PartUploads, job: Job) -> None:
    """Abort a cancelled job's upload: storage keeps none of its parts. If
    storage cannot be reached, the parts are left to its own sweep of stale
    uploads (MinIO: a day) or the bucket's lifecycle rule."""
    if job.upload_id is None:
        return
    try:
        await uploads.abort(key=job.object_key, upload_id=job.upload_id)
    except DependencyUnavailable:
        log.warning("parts of a cancelled job left in storage", job_id=str(job.id))

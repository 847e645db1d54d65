"""/v1/jobs: create a job and its presigned upload, complete, cancel, retry,
read, list, history, result. Thin: each route calls one service function."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from ingest_api.auth.credentials import Credential
from ingest_api.core.errors import Conflict, InvalidRequest
from ingest_api.http.conditional import entity_tag, none_match
from ingest_api.http.deps import (
    JobReader,
    JobWriter,
    ReadingUser,
    RelayDep,
    RequestId,
    RuntimeDep,
    WritingUser,
    runtime_of,
)
from ingest_api.http.problem import request_id_of
from ingest_api.http.responses import ModelResponse
from ingest_api.jobs import multipart, rules, service
from ingest_api.jobs.creation import JobCreations
from ingest_api.jobs.models import JobRow
from ingest_api.jobs.reading import JobReads
from ingest_api.jobs.schemas import (
    JobCreate,
    JobCreated,
    JobEventPublic,
    JobEventsPublic,
    JobPublic,
    JobResultPublic,
    JobsPublic,
    UploadPublic,
)
from ingest_api.jobs.states import JobState
from ingest_api.queue.service import OutboxRelay
from ingest_api.runtime import Runtime
from ingest_api.storage.multipart import PartUploads
from ingest_api.storage.service import PresignedUpload
from ingest_api.users.models import Principal

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
# A long poll of one job: the longest wait a client may ask for (proxies
# commonly cut idle requests at 60 s), and how often the job is read again.
MAX_WAIT_SECONDS = 30
WAIT_POLL_SECONDS = 0.5
ETAG_HEADER = {
    "description": "the version of the job: send it as If-None-Match",
    "schema": {"type": "string"},
    "required": True,
}


async def visible_job(
    request: Request, job_id: uuid.UUID, credential: Credential
) -> tuple[Principal, JobRow]:
    """The caller and the job, if they may see it: one statement (shared with
    concurrent reads), which also authenticates the caller (see jobs.sql)."""
    reads: JobReads = request.app.state.job_reads
    return await reads.get_visible(job_id=job_id, user_id=credential.subject)


def creations_of(request: Request) -> JobCreations:
    creations: JobCreations = request.app.state.job_creations
    return creations


def job_created(job: JobRow, upload: PresignedUpload | None) -> JobCreated:
    return JobCreated(
        **{name: getattr(job, name) for name in JobPublic.model_fields},
        upload=None
        if upload is None
        else UploadPublic(url=upload.url, fields=upload.fields, expires_at=upload.expires_at),
    )


@router.post(
    "",
    response_model=JobCreated,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": JobCreated, "description": "an Idempotency-Key replay"}},
)
async def create_job(
    body: JobCreate,
    credential: JobWriter,
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> Response:
    """Create a job and a presigned POST upload that storage enforces (size and
    type). Repeating the request with the same Idempotency-Key returns the
    same job instead of a second one, with a fresh upload while the job
    still waits for its file (`upload` is null once it was completed)."""
    if idempotency_key is not None and not IDEMPOTENCY_KEY_PATTERN.match(idempotency_key):
        raise InvalidRequest("must be 1-255 printable ASCII characters", field="Idempotency-Key")
    runtime, creations = runtime_of(request), creations_of(request)
    job, created = await creations.create(
        user_id=credential.subject,
        data=body,
        request_id=request_id_of(request),
        idempotency_key=idempotency_key,
        via=credential.via,
    )
    # A replay must not hand out a new policy for a file already verified.
    upload = (
        service.presign_upload(runtime.store, runtime.settings, job=job)
        if job.status == JobState.CREATED.value and job.part_size_bytes is None
        else None
    )
    answer = job_created(job, upload)
    if not created:
        return ModelResponse(answer, headers={"Idempotent-Replayed": "true"})
    return ModelResponse(answer, status_code=status.HTTP_201_CREATED)


@router.get("", response_model=JobsPublic)
async def list_jobs(
    user: ReadingUser,
    runtime: RuntimeDep,
    status_filter: Annotated[JobState | None, Query(alias="status")] = None,
    label: Annotated[str | None, Query(description="key=value", pattern=r"^[^=]+=.*$")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE_SIZE)] = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> JobsPublic:
    """Your jobs (every job, for an admin), newest first, a page at a time."""
    label_pair = tuple(label.split("=", 1)) if label else None
    page, next_cursor = await runtime.db.read(
        lambda session: service.list_visible(
            session,
            user=user,
            status=status_filter,
            label=(label_pair[0], label_pair[1]) if label_pair else None,
            limit=limit,
            cursor=cursor,
        )
    )
    return JobsPublic(data=[JobPublic.model_validate(job) for job in page], next_cursor=next_cursor)


@router.get(
    "/{job_id}",
    response_model=JobPublic,
    responses={
        200: {"headers": {"ETag": ETAG_HEADER}},
        304: {
            "description": "the job is still as the If-None-Match tag says",
            "headers": {"ETag": ETAG_HEADER},
        },
    },
)
async def read_job(
    job_id: uuid.UUID,
    credential: JobReader,
    request: Request,
    if_none_match: Annotated[str | None, Header(max_length=1024)] = None,
    wait: Annotated[
        int,
        Query(
            ge=0,
            le=MAX_WAIT_SECONDS,
            description="with If-None-Match: seconds to wait for the job to change "
            "before answering 304 (a long poll)",
        ),
    ] = 0,
) -> Response:
    """The job, with an ETag. With If-None-Match naming the current tag the
    answer is 304, at once, or once `wait` seconds pass without a change; a
    change within them is answered at once. Follow a job this way instead
    of polling it."""
    deadline = time.monotonic() + wait
    while True:
        _, job = await visible_job(request, job_id, credential)
        body = JobPublic.model_validate(job).model_dump_json().encode()
        tag = entity_tag(body)
        if not none_match(if_none_match, tag):
            return Response(body, media_type="application/json", headers={"ETag": tag})
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": tag})
        # Every waiting client's read joins the same batched statement.
        await asyncio.sleep(min(WAIT_POLL_SECONDS, remaining))


@router.get("/{job_id}/upload", response_model=UploadPublic)
async def renew_upload(
    job_id: uuid.UUID, credential: JobWriter, runtime: RuntimeDep, request: Request
) -> UploadPublic:
    """A fresh presigned upload for a job still waiting for its file."""
    user, job = await visible_job(request, job_id, credential)
    rules.require_uploader(user)
    if job.part_size_bytes is not None:
        raise Conflict(f"job {job_id} is uploaded in parts: ask POST /v1/jobs/{job_id}/parts")
    if job.status != JobState.CREATED.value:
        raise InvalidRequest(
            f"the job is '{job.status}'; uploads are for 'created' jobs", field="status"
        )
    upload = service.presign_upload(runtime.store, runtime.settings, job=job)
    return UploadPublic.model_validate(upload, from_attributes=True)


@router.post("/{job_id}/complete", response_model=JobPublic)
async def complete_job(
    job_id: uuid.UUID,
    user: WritingUser,
    runtime: RuntimeDep,
    relay: RelayDep,
    request_id: RequestId,
) -> JobPublic:
    """Tell the API the upload is done: it checks the object, then queues the job."""
    return await _queue_verified(service.COMPLETE, job_id, user, runtime, relay, request_id)


@router.post("/{job_id}/cancel", response_model=JobPublic)
async def cancel_job(
    job_id: uuid.UUID, user: WritingUser, runtime: RuntimeDep, request_id: RequestId
) -> JobPublic:
    job = await runtime.db.transaction(
        lambda session: service.cancel(session, job_id=job_id, user=user, request_id=request_id)
    )
    await multipart.drop_parts(PartUploads(runtime.store), job)
    return JobPublic.model_validate(job)


@router.post("/{job_id}/retry", response_model=JobPublic)
async def retry_job(
    job_id: uuid.UUID,
    user: WritingUser,
    runtime: RuntimeDep,
    relay: RelayDep,
    request_id: RequestId,
) -> JobPublic:
    """Queue a failed job again, once its file is verified again."""
    return await _queue_verified(service.RETRY, job_id, user, runtime, relay, request_id)


async def _queue_verified(
    step: service.QueueStep,
    job_id: uuid.UUID,
    user: Principal,
    runtime: Runtime,
    relay: OutboxRelay,
    request_id: str | None,
) -> JobPublic:
    job = await service.queue_verified(
        runtime.db,
        runtime.store,
        runtime.settings,
        step,
        job_id=job_id,
        user=user,
        request_id=request_id,
        on_queued=relay.wake,
    )
    return JobPublic.model_validate(job)


@router.get("/{job_id}/events", response_model=JobEventsPublic)
async def job_events(job_id: uuid.UUID, user: ReadingUser, runtime: RuntimeDep) -> JobEventsPublic:
    """The job's history: every state change, when, by whom, and why."""
    found = await runtime.db.read(lambda session: service.events(session, job_id=job_id, user=user))
    return JobEventsPublic(data=[JobEventPublic.model_validate(event) for event in found])


@router.get("/{job_id}/result", response_model=JobResultPublic)
async def job_result(
    job_id: uuid.UUID, credential: JobReader, runtime: RuntimeDep, request: Request
) -> JobResultPublic:
    """The summary of a completed job and a presigned download of its output."""
    _, job = await visible_job(request, job_id, credential)
    if job.status != JobState.COMPLETED.value or job.result is None:
        raise Conflict(f"job {job_id} has no result yet; it is '{job.status}'")
    output_key = job.result.get("output_key")
    if not isinstance(output_key, str):
        return JobResultPublic(
            job_id=job.id, summary=job.result, download_url=None, download_expires_at=None
        )
    ttl = runtime.settings.download_url_ttl_seconds
    return JobResultPublic(
        job_id=job.id,
        summary=job.result,
        download_url=runtime.store.presign_download(key=output_key, ttl_seconds=ttl),
        download_expires_at=datetime.now(UTC) + timedelta(seconds=ttl),
    )

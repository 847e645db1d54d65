"""/v1/jobs/{id}/parts: a large file's upload in parts. Ask for the parts'
URLs (any of them, any time, again after they expire), PUT each part to its
URL, see which parts storage already holds (to resume), then complete the
job as for any upload: the API joins the parts, checks the file, queues it."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from ingest_api.http.deps import JobReader, JobWriter, runtime_of
from ingest_api.jobs import multipart, rules
from ingest_api.jobs.router import visible_job
from ingest_api.jobs.schemas import PartsRequest, PartUploadsPublic, StoredPartsPublic
from ingest_api.storage.multipart import PartUploads

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


@router.post("/{job_id}/parts", response_model=PartUploadsPublic)
async def part_uploads(
    job_id: uuid.UUID, body: PartsRequest, credential: JobWriter, request: Request
) -> PartUploadsPublic:
    """PUT URLs for the parts asked for, each signed for the part's exact
    length (storage refuses another) and, when its `sha256` is given, for
    those bytes alone."""
    user, job = await visible_job(request, job_id, credential)
    rules.require_uploader(user)
    runtime = runtime_of(request)
    return await multipart.presign_parts(
        runtime.db, PartUploads(runtime.store), runtime.settings, job=job, wanted=body.parts
    )


@router.get("/{job_id}/parts", response_model=StoredPartsPublic)
async def stored_parts(
    job_id: uuid.UUID, credential: JobReader, request: Request
) -> StoredPartsPublic:
    """The parts storage holds so far, with their sizes: a client resuming
    an interrupted upload sends only the others."""
    _, job = await visible_job(request, job_id, credential)
    return await multipart.stored_parts(PartUploads(runtime_of(request).store), job=job)

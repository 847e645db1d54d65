"""What may be done with a job, decided without I/O: who may see or change
it, what the configuration accepts, where its file goes, and how a request
is fingerprinted for its Idempotency-Key. Both the ORM service and the
driver's hot paths (`jobs.sql`) decide through here."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta
from typing import Protocol, TypeVar

from ingest_api.core.config import Settings
from ingest_api.core.errors import Forbidden, InvalidRequest, NotFound
from ingest_api.jobs.parts import part_size_for
from ingest_api.jobs.schemas import JobCreate
from ingest_api.users.models import Principal, Role

# Stripe keeps keys a day: long enough for any client's retries.
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)


class Owned(Protocol):
    @property
    def owner_id(self) -> uuid.UUID: ...


OwnedT = TypeVar("OwnedT", bound=Owned)


# The roles that may create and change jobs (the others may only read).
UPLOADER_ROLES = (Role.ADMIN.value, Role.UPLOADER.value)


def require_uploader(user: Principal) -> None:
    if user.role not in UPLOADER_ROLES:
        raise Forbidden(f"the '{user.role}' role may read jobs but not create or change them")


def check_visible(job: OwnedT | None, *, job_id: uuid.UUID, user: Principal) -> OwnedT:
    """The job, if this user may see it. Others' jobs are 'not found', so their
    existence is not revealed."""
    if job is None or (job.owner_id != user.id and user.role != Role.ADMIN.value):
        raise NotFound(f"job {job_id} does not exist")
    return job


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


# S3 takes at most 5 GiB in one POST; larger files can only come in parts.
SINGLE_UPLOAD_MAX_BYTES = 5 * 1024**3


def part_size_of(settings: Settings, data: JobCreate) -> int | None:
    """The size of the parts the file is uploaded in; None for one POST."""
    too_large_for_one = data.size_bytes > SINGLE_UPLOAD_MAX_BYTES
    if data.multipart is False:
        if too_large_for_one:
            raise InvalidRequest(
                f"a file over {SINGLE_UPLOAD_MAX_BYTES} bytes can only be uploaded in parts",
                field="multipart",
            )
        if data.part_size_bytes is not None:
            raise InvalidRequest("a part size is for uploads in parts", field="part_size_bytes")
        return None
    in_parts = (
        data.multipart
        or too_large_for_one
        or data.part_size_bytes is not None
        or data.size_bytes > settings.multipart_threshold_bytes
    )
    if not in_parts:
        return None
    return part_size_for(
        data.size_bytes, requested=data.part_size_bytes, default=settings.multipart_part_bytes
    )

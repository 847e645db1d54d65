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

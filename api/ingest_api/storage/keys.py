"""Where a job's objects live in the bucket: one place for the layout, which
the API, the worker and the retention rules (`retention.policy`) share.
The server chooses every key; a client's filename never reaches one."""

from __future__ import annotations

import uuid

UPLOADS_PREFIX = "uploads/"
RESULTS_PREFIX = "results/"


def upload_key(job_id: uuid.UUID) -> str:
    return f"{UPLOADS_PREFIX}{job_id}"


def result_key(job_id: uuid.UUID) -> str:
    return f"{RESULTS_PREFIX}{job_id}.ndjson.gz"

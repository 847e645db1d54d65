"""The rows the request hot paths read with the driver's own SQL (jobs.sql):
their columns match the tables, and a row says who the caller is."""

from __future__ import annotations

import uuid
from dataclasses import fields
from datetime import UTC, datetime

import pytest

from ingest_api.auth.service import USER_COLUMNS
from ingest_api.core.errors import Unauthenticated
from ingest_api.jobs.models import Job, JobRow
from ingest_api.jobs.sql import split_row
from ingest_api.users.models import Principal, User

NOW = datetime(2026, 1, 1, tzinfo=UTC)
USER_ID = uuid.uuid4()


def job_values() -> list[object]:
    values: dict[str, object] = {
        "id": uuid.uuid4(), "owner_id": USER_ID, "status": "created", "filename": "a.log",
        "content_type": "text/plain", "size_bytes": 10, "sha256": None, "labels": {},
        "object_key": "uploads/x", "request_id": None, "attempts": 0, "failure_reason": None,
        "result": None, "created_at": NOW, "updated_at": NOW, "failure_code": None,
        "retries": 0, "object_etag": None, "object_version": None, "part_size_bytes": None,
        "upload_id": None,
    }  # fmt: skip
    return [values[field.name] for field in fields(JobRow)]


def test_job_row_has_every_column_of_the_jobs_table_in_order() -> None:
    assert [field.name for field in fields(JobRow)] == list(Job.__table__.columns.keys())


def test_the_user_columns_exist_on_the_users_table() -> None:
    assert set(USER_COLUMNS) <= set(User.__table__.columns.keys())


def test_a_row_gives_the_caller_and_the_job() -> None:
    principal, job = split_row([USER_ID, "ana", "uploader", True, *job_values()])
    assert principal == Principal(id=USER_ID, username="ana", role="uploader")
    assert job is not None
    assert (job.owner_id, job.filename) == (USER_ID, "a.log")


def test_a_row_without_a_job_gives_none_for_it() -> None:
    _, job = split_row([USER_ID, "ana", "viewer", True, *[None] * len(fields(JobRow))])
    assert job is None


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (None, "no longer exists"),
        ([None] * (len(USER_COLUMNS) + len(fields(JobRow))), "no longer exists"),
        ([USER_ID, "ana", "uploader", False, *job_values()], "disabled"),
    ],
)
def test_a_missing_or_disabled_caller_is_refused(row: list[object] | None, reason: str) -> None:
    with pytest.raises(Unauthenticated, match=reason):
        split_row(row)

"""Pure rules of the job service: uploads that match, cursors, fingerprints."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest

from ingest_api.core.errors import Conflict, InvalidRequest
from ingest_api.jobs.models import Job
from ingest_api.jobs.rules import request_fingerprint
from ingest_api.jobs.schemas import JobCreate
from ingest_api.jobs.service import check_upload, decode_cursor, encode_cursor
from ingest_api.storage.service import StoredObject


def a_job(**values: object) -> Job:
    defaults: dict[str, object] = {
        "id": uuid.uuid4(), "size_bytes": 10, "content_type": "text/plain", "status": "created",
        "created_at": datetime(2026, 11, 28, 12, 0, tzinfo=UTC),
    }  # fmt: skip
    return Job(**{**defaults, **values})


def test_a_matching_upload_passes() -> None:
    check_upload(a_job(), StoredObject(size=10, content_type="text/plain", metadata={}))


@pytest.mark.parametrize(
    ("stored", "reason"),
    [
        (None, "has not been uploaded yet"),
        (StoredObject(size=11, content_type="text/plain", metadata={}), "has 11 bytes"),
        (StoredObject(size=10, content_type="text/html", metadata={}), "is 'text/html'"),
    ],
)
def test_a_missing_or_different_upload_is_a_conflict(
    stored: StoredObject | None, reason: str
) -> None:
    with pytest.raises(Conflict, match=reason):
        check_upload(a_job(), stored)


def test_a_file_gone_after_the_upload_is_no_longer_in_storage() -> None:
    with pytest.raises(Conflict, match="is no longer in storage"):
        check_upload(a_job(status="failed"), None)


def test_cursor_round_trip() -> None:
    job = a_job()
    assert decode_cursor(encode_cursor(job)) == (job.created_at, job.id)


def _encoded(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "!!!",
        "bm9wZQ",
        "WzEsMl0",
        _encoded(["2024-01-01T00:00:00+00:00", 1]),  # uuid.UUID(1): AttributeError
        _encoded(["2024-01-01T00:00:00", str(uuid.uuid4())]),  # no zone
        _encoded({"a": 1}),
        _encoded(["2024-01-01T00:00:00+00:00", str(uuid.uuid4()), 3]),
        "\x00\ud800",
    ],
)
def test_foreign_cursors_are_invalid_requests(cursor: str) -> None:
    with pytest.raises(InvalidRequest):
        decode_cursor(cursor)


def test_fingerprint_ignores_label_order_but_not_content() -> None:
    base = {"filename": "a.log", "content_type": "text/plain", "size_bytes": 3}
    one = JobCreate(**base, labels={"a": "1", "b": "2"})
    same = JobCreate(**base, labels={"b": "2", "a": "1"})
    other = JobCreate(**base, labels={"a": "1", "b": "3"})
    assert request_fingerprint(one) == request_fingerprint(same)
    assert request_fingerprint(one) != request_fingerprint(other)

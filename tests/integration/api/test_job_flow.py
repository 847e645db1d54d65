"""The whole path of a file: an admin creates an uploader, who gets a token,
creates a job, uploads with a plain HTTP client, completes the job, and the
queue message reaches the stream with the job id and the request id."""

from __future__ import annotations

import hashlib

from starlette.testclient import TestClient

from ingest_api.core.config import Settings
from tests.support.api import create_job, make_user, upload
from tests.support.queue import stream_messages

LOG_LINES = b'{"level":"info","msg":"hello"}\n{"level":"error","msg":"boom"}\n'


def test_uploaded_file_is_queued_with_its_request_id(
    client: TestClient, settings: Settings
) -> None:
    uploader = make_user(client, "uploader")
    job = create_job(client, uploader, LOG_LINES)
    assert job["status"] == "created"
    assert job["upload"]["fields"]["key"] == f"uploads/{job['id']}"

    stored = upload(job, LOG_LINES)
    assert stored.status_code == 204, stored.text

    completed = client.post(
        f"/v1/jobs/{job['id']}/complete",
        headers={**uploader.headers, "X-Request-ID": "flow-test-0001"},
    )
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "queued"

    messages = stream_messages(settings)
    assert messages == [{"job_id": job["id"], "request_id": "flow-test-0001", "attempt": "1"}]

    history = client.get(f"/v1/jobs/{job['id']}/events", headers=uploader.headers).json()["data"]
    assert [(e["from_status"], e["to_status"]) for e in history] == [
        (None, "created"),
        ("created", "queued"),
    ]
    assert history[1]["request_id"] == "flow-test-0001"
    assert history[1]["actor"] == f"user:{uploader.username}"


def test_completion_before_the_upload_is_refused(client: TestClient, settings: Settings) -> None:
    uploader = make_user(client, "uploader")
    job = create_job(client, uploader, LOG_LINES)

    response = client.post(f"/v1/jobs/{job['id']}/complete", headers=uploader.headers)

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "has not been uploaded yet" in response.json()["detail"]
    assert (
        client.get(f"/v1/jobs/{job['id']}", headers=uploader.headers).json()["status"] == "created"
    )
    assert stream_messages(settings, timeout=0.5) == []


def test_storage_refuses_a_larger_body_than_declared(client: TestClient) -> None:
    uploader = make_user(client, "uploader")
    job = create_job(client, uploader, LOG_LINES)

    response = upload(job, LOG_LINES + b"one line too many\n")

    assert response.status_code == 400
    assert "EntityTooLarge" in response.text


def test_storage_refuses_another_content_type(client: TestClient) -> None:
    uploader = make_user(client, "uploader")
    job = create_job(client, uploader, LOG_LINES)

    response = upload(job, LOG_LINES, content_type="text/html")

    assert response.status_code == 403
    assert "AccessDenied" in response.text


def test_storage_refuses_bytes_other_than_the_declared_sha256(client: TestClient) -> None:
    uploader = make_user(client, "uploader")
    job = create_job(client, uploader, LOG_LINES, sha256=hashlib.sha256(LOG_LINES).hexdigest())
    same_size = LOG_LINES.replace(b"hello", b"HELLO")

    refused = upload(job, same_size)
    accepted = upload(job, LOG_LINES)

    assert refused.status_code == 400
    assert "XAmzContentChecksumMismatch" in refused.text
    assert accepted.status_code == 204, accepted.text

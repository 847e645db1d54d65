"""Hostile uploads through the real API, storage and worker: each reaches its
terminal state within seconds, on the first attempt, and the worker goes on
to the next job; what is processed is exactly what was verified."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import psycopg
from starlette.testclient import TestClient

from ingest_api.app import create_app
from ingest_api.core.config import Settings
from tests.integration.worker.conftest import StartWorker
from tests.support.api import ApiUser, create_job, make_user, upload
from tests.support.hostile_files import hostile_file
from tests.support.job_state import wait_for
from tests.support.logs import json_lines

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

Submit = Callable[..., dict[str, Any]]

# Seconds a hostile file may take to reach a terminal state: the poison loop
# this guards against took five reclaims of a minute each.
TERMINAL_WITHIN = 30

CASES = [
    ("plain-year-one-east", "completed", None),
    ("json-year-9999-west", "completed", None),
    ("access-log-year-one", "completed", None),
    ("json-time-of-5000-digits", "completed", None),
    ("json-nested-5000-deep", "completed", None),
    ("nul-after-64k", "completed", None),
    ("json-nul-and-surrogate-escapes", "completed", None),
    ("gzip-bomb", "failed", "limit_exceeded"),
    ("binary", "failed", "not_text"),
]


def test_hostile_files_end_at_once_and_the_worker_moves_on(
    settings: Settings, submit: Submit, start_worker: StartWorker
) -> None:
    jobs = {
        name: submit(hostile_file(name).data, content_type=hostile_file(name).content_type)
        for name, _, _ in CASES
    }
    good = submit(json_lines(3))

    with start_worker():
        rows = {
            name: wait_for(settings, job["id"], {"completed", "failed"}, timeout=TERMINAL_WITHIN)
            for name, job in jobs.items()
        }
        after = wait_for(settings, good["id"], {"completed", "failed"}, timeout=TERMINAL_WITHIN)

    for name, status, code in CASES:
        row = rows[name]
        assert (row["status"], row["failure_code"], row["attempts"]) == (status, code, 1), (
            name,
            row,
        )
    assert rows["nul-after-64k"]["result"]["samples"] == [
        {"line": 9001, "text": "ERROR bad \ufffd byte"}
    ]
    assert "expands more than 200 times" in rows["gzip-bomb"]["failure_reason"]
    assert after["status"] == "completed"


def test_a_file_replaced_after_complete_is_not_processed(
    settings: Settings, submit: Submit, start_worker: StartWorker
) -> None:
    original = json_lines(4)
    # No declared sha256: storage would refuse other bytes at the upload.
    job = submit(original, sha256=None)
    # The presigned POST stays valid until it expires: same size, other bytes.
    replacement = original.replace(b"event", b"EVENT")
    assert len(replacement) == len(original)
    assert upload(job, replacement).status_code == 204

    with start_worker():
        row = wait_for(settings, job["id"], {"completed", "failed"}, timeout=TERMINAL_WITHIN)

    assert (row["status"], row["failure_code"]) == ("failed", "object_replaced")
    assert "replaced after it was verified" in row["failure_reason"]


def test_a_replaced_file_is_processed_after_a_retry_verifies_it_again(
    client: TestClient, settings: Settings, uploader: ApiUser, start_worker: StartWorker
) -> None:
    original = json_lines(4)
    job = create_job(client, uploader, original, sha256=None)
    assert upload(job, original).status_code == 204
    assert (
        client.post(f"/v1/jobs/{job['id']}/complete", headers=uploader.headers).status_code == 200
    )
    replacement = original.replace(b"event", b"EVENT")
    assert upload(job, replacement).status_code == 204

    with start_worker():
        failed = wait_for(settings, job["id"], {"completed", "failed"}, timeout=TERMINAL_WITHIN)
        retried = client.post(f"/v1/jobs/{job['id']}/retry", headers=uploader.headers)
        assert retried.status_code == 200, retried.text
        done = wait_for(settings, job["id"], {"completed", "failed"}, timeout=TERMINAL_WITHIN)

    assert failed["failure_code"] == "object_replaced"
    # Completed: the worker read the replacement under its new ETag, which
    # only the retry's verification recorded.
    assert done["status"] == "completed", done["failure_reason"]


def test_a_file_that_is_not_the_declared_sha256_fails_with_checksum_mismatch(
    client: TestClient,
    settings: Settings,
    uploader: ApiUser,
    s3_client: S3Client,
    submit: Submit,
    start_worker: StartWorker,
) -> None:
    # MinIO refuses such an upload through the presigned POST; storage that
    # does not check checksums takes it, as a direct write does here.
    body = json_lines(4)
    wrong = create_job(client, uploader, body, sha256=hashlib.sha256(b"other").hexdigest())
    s3_client.put_object(
        Bucket=settings.s3_bucket,
        Key=wrong["upload"]["fields"]["key"],
        Body=body,
        ContentType="text/plain",
    )
    assert (
        client.post(f"/v1/jobs/{wrong['id']}/complete", headers=uploader.headers).status_code == 200
    )
    right = submit(body, sha256=hashlib.sha256(body).hexdigest())

    with start_worker():
        failed = wait_for(settings, wrong["id"], {"completed", "failed"}, timeout=TERMINAL_WITHIN)
        done = wait_for(settings, right["id"], {"completed", "failed"}, timeout=TERMINAL_WITHIN)

    assert (failed["status"], failed["failure_code"], failed["attempts"]) == (
        "failed",
        "checksum_mismatch",
        1,
    )
    assert done["status"] == "completed"


def test_a_worker_with_a_253_character_pod_name_moves_jobs(
    settings: Settings, submit: Submit, start_worker: StartWorker
) -> None:
    pod_name = "w" * 253
    job = submit(json_lines(2))

    with start_worker(WORKER_NAME=pod_name):
        row = wait_for(settings, job["id"], {"completed", "failed"}, timeout=TERMINAL_WITHIN)

    assert row["status"] == "completed"
    with psycopg.connect(settings.database_url) as conn:
        actors = {
            a
            for (a,) in conn.execute("SELECT actor FROM job_events WHERE job_id = %s", (job["id"],))
        }
    assert f"worker:{pod_name}" in actors


def test_the_longest_user_name_creates_completes_and_cancels_jobs(
    client: TestClient, settings: Settings
) -> None:
    user = make_user(client, "uploader", username="u" * 64)
    body = json_lines(2)
    job = create_job(client, user, body)
    assert upload(job, body).status_code == 204

    completed = client.post(f"/v1/jobs/{job['id']}/complete", headers=user.headers)
    cancelled = client.post(f"/v1/jobs/{job['id']}/cancel", headers=user.headers)

    assert (completed.status_code, cancelled.status_code) == (200, 200), completed.text
    events = client.get(f"/v1/jobs/{job['id']}/events", headers=user.headers).json()["data"]
    assert {event["actor"] for event in events} == {"user:" + "u" * 64}


def test_a_failed_job_can_be_retried_up_to_the_limit(
    settings: Settings, start_worker: StartWorker
) -> None:
    limited = settings.model_copy(update={"max_job_retries": 1})
    with TestClient(create_app(limited), raise_server_exceptions=False) as client:
        user: ApiUser = make_user(client, "uploader")
        body = hostile_file("binary").data
        job = create_job(client, user, body, content_type="application/octet-stream")
        assert upload(job, body).status_code == 204
        assert (
            client.post(f"/v1/jobs/{job['id']}/complete", headers=user.headers).status_code == 200
        )

        with start_worker():
            first = wait_for(settings, job["id"], {"failed"}, timeout=TERMINAL_WITHIN)
            retried = client.post(f"/v1/jobs/{job['id']}/retry", headers=user.headers)
            assert retried.status_code == 200, retried.text
            assert retried.json()["retries"] == 1
            assert retried.json()["failure_code"] is None
            second = wait_for(settings, job["id"], {"failed"}, timeout=TERMINAL_WITHIN)
            refused = client.post(f"/v1/jobs/{job['id']}/retry", headers=user.headers)

    assert (first["failure_code"], second["failure_code"]) == ("not_text", "not_text")
    assert second["attempts"] == 2
    assert refused.status_code == 409
    assert "retried 1 times, the limit" in refused.json()["detail"]


def test_an_idempotent_replay_of_a_completed_job_hands_out_no_upload(
    client: TestClient,
) -> None:
    user = make_user(client, "uploader")
    body = json_lines(2)
    headers = {**user.headers, "Idempotency-Key": "replay-after-complete"}
    request = {"filename": "a.log", "content_type": "text/plain", "size_bytes": len(body)}
    job = client.post("/v1/jobs", json=request, headers=headers).json()
    assert upload(job, body).status_code == 204
    assert client.post(f"/v1/jobs/{job['id']}/complete", headers=user.headers).status_code == 200

    replay = client.post("/v1/jobs", json=request, headers=headers)

    assert replay.status_code == 200
    assert (replay.json()["status"], replay.json()["upload"]) == ("queued", None)


def test_an_unexpected_error_fails_the_job_as_internal_and_the_worker_moves_on(
    settings: Settings, submit: Submit, start_worker: StartWorker
) -> None:
    # A real error nobody classified: the storage refuses the request itself
    # (400, MinIO takes no empty path segment in a key), which is neither the
    # file's fault nor an outage. No mock: the row is changed as a bug of ours could.
    job = submit(json_lines(2))
    with psycopg.connect(settings.database_url) as conn:
        conn.execute(
            "UPDATE jobs SET object_key = 'uploads//' || id::text WHERE id = %s", (job["id"],)
        )
    good = submit(json_lines(3))

    with start_worker() as worker:
        row = wait_for(settings, job["id"], {"completed", "failed"}, timeout=TERMINAL_WITHIN)
        after = wait_for(settings, good["id"], {"completed", "failed"}, timeout=TERMINAL_WITHIN)
        log = worker.log_lines()

    assert (row["status"], row["failure_code"], row["attempts"]) == ("failed", "internal_error", 1)
    assert row["failure_reason"] == (
        f"internal error while processing (request id req-{job['id'][:8]})"
    )
    assert any("internal error while processing" in line and "Traceback" in line for line in log)
    assert after["status"] == "completed"

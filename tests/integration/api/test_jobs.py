"""Job operations beyond the happy path: idempotent creation, cancel, retry,
illegal moves, listing with filters and cursors, input validation."""

from __future__ import annotations

import concurrent.futures
from typing import TYPE_CHECKING

import psycopg
import pytest
from starlette.testclient import TestClient

from ingest_api.core.config import Settings
from tests.support.api import create_job, job_request, make_user, upload

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BODY = b"2026-11-28T10:00:00Z INFO ready\n"


def test_same_idempotency_key_returns_the_same_job(client: TestClient) -> None:
    uploader = make_user(client, "uploader")
    headers = {**uploader.headers, "Idempotency-Key": "upload-42"}

    first = client.post("/v1/jobs", json=job_request(BODY), headers=headers)
    again = client.post("/v1/jobs", json=job_request(BODY), headers=headers)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert len(client.get("/v1/jobs", headers=uploader.headers).json()["data"]) == 1


def test_concurrent_requests_with_one_key_make_one_job(client: TestClient) -> None:
    uploader = make_user(client, "uploader")
    headers = {**uploader.headers, "Idempotency-Key": "racing-key"}

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(
            pool.map(
                lambda _: client.post("/v1/jobs", json=job_request(BODY), headers=headers), range(4)
            )
        )

    assert sorted(a.status_code for a in answers) == [200, 200, 200, 201]
    assert len({a.json()["id"] for a in answers}) == 1


def test_a_key_reused_with_another_body_is_refused(client: TestClient) -> None:
    uploader = make_user(client, "uploader")
    headers = {**uploader.headers, "Idempotency-Key": "reused"}
    assert client.post("/v1/jobs", json=job_request(BODY), headers=headers).status_code == 201

    response = client.post("/v1/jobs", json=job_request(BODY + b"more"), headers=headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def test_keys_are_scoped_per_user(client: TestClient) -> None:
    alice, bob = make_user(client, "uploader"), make_user(client, "uploader")
    key = {"Idempotency-Key": "same-key"}
    a = client.post("/v1/jobs", json=job_request(BODY), headers={**alice.headers, **key})
    b = client.post("/v1/jobs", json=job_request(BODY), headers={**bob.headers, **key})
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_cancel_then_no_way_back(client: TestClient) -> None:
    uploader = make_user(client, "uploader")
    job = create_job(client, uploader, BODY)

    cancelled = client.post(f"/v1/jobs/{job['id']}/cancel", headers=uploader.headers)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"

    again = client.post(f"/v1/jobs/{job['id']}/cancel", headers=uploader.headers)
    assert again.status_code == 409
    assert again.json()["type"].endswith("/illegal-transition")
    assert "cannot move to 'cancelled'" in again.json()["detail"]
    assert upload(job, BODY).status_code == 204  # the upload itself is storage's business
    complete = client.post(f"/v1/jobs/{job['id']}/complete", headers=uploader.headers)
    assert complete.status_code == 409


def test_retry_queues_a_failed_job_again(client: TestClient, settings: Settings) -> None:
    uploader = make_user(client, "uploader")
    job = create_job(client, uploader, BODY)
    assert upload(job, BODY).status_code == 204
    assert (
        client.post(f"/v1/jobs/{job['id']}/complete", headers=uploader.headers).status_code == 200
    )
    assert client.post(f"/v1/jobs/{job['id']}/retry", headers=uploader.headers).status_code == 409
    # The worker's part, done by hand: the job failed.
    with psycopg.connect(settings.database_url) as conn:
        conn.execute("UPDATE jobs SET status = 'failed', attempts = 1 WHERE id = %s", (job["id"],))

    retried = client.post(f"/v1/jobs/{job['id']}/retry", headers=uploader.headers)

    assert retried.status_code == 200
    assert retried.json()["status"] == "queued"
    history = client.get(f"/v1/jobs/{job['id']}/events", headers=uploader.headers).json()["data"]
    assert history[-1]["from_status"] == "failed"
    assert history[-1]["reason"] == "retried by the user"


def test_retry_of_a_job_whose_file_is_gone_is_a_conflict(
    client: TestClient, settings: Settings, s3_client: S3Client
) -> None:
    uploader = make_user(client, "uploader")
    job = create_job(client, uploader, BODY)
    assert upload(job, BODY).status_code == 204
    assert (
        client.post(f"/v1/jobs/{job['id']}/complete", headers=uploader.headers).status_code == 200
    )
    with psycopg.connect(settings.database_url) as conn:
        conn.execute("UPDATE jobs SET status = 'failed', attempts = 1 WHERE id = %s", (job["id"],))
    s3_client.delete_object(Bucket=settings.s3_bucket, Key=job["upload"]["fields"]["key"])

    retried = client.post(f"/v1/jobs/{job['id']}/retry", headers=uploader.headers)

    assert retried.status_code == 409
    assert "no longer in storage" in retried.json()["detail"]
    current = client.get(f"/v1/jobs/{job['id']}", headers=uploader.headers).json()
    assert (current["status"], current["retries"]) == ("failed", 0)


def test_result_of_an_unfinished_job_is_a_conflict(client: TestClient) -> None:
    uploader = make_user(client, "uploader")
    job = create_job(client, uploader, BODY)
    response = client.get(f"/v1/jobs/{job['id']}/result", headers=uploader.headers)
    assert response.status_code == 409
    assert "no result yet" in response.json()["detail"]


def test_list_pages_with_a_cursor_newest_first(client: TestClient) -> None:
    uploader = make_user(client, "uploader")
    made = [create_job(client, uploader, BODY, filename=f"f{i}.log")["id"] for i in range(5)]

    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/v1/jobs", params=params, headers=uploader.headers).json()
        seen += [job["id"] for job in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(made))


def test_list_filters_by_status_and_label(client: TestClient) -> None:
    uploader = make_user(client, "uploader")
    web = create_job(client, uploader, BODY, labels={"app": "web"})
    create_job(client, uploader, BODY, labels={"app": "db"})
    client.post(f"/v1/jobs/{web['id']}/cancel", headers=uploader.headers)

    def ids(**params: str) -> list[str]:
        answer = client.get("/v1/jobs", params=params, headers=uploader.headers).json()
        return [job["id"] for job in answer["data"]]

    assert ids(label="app=web") == [web["id"]]
    assert ids(status="cancelled") == [web["id"]]
    assert ids(status="cancelled", label="app=db") == []


def test_a_forged_cursor_is_a_validation_error(client: TestClient) -> None:
    uploader = make_user(client, "uploader")
    response = client.get("/v1/jobs", params={"cursor": "bm9wZQ"}, headers=uploader.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


def test_bad_input_names_each_field(client: TestClient) -> None:
    uploader = make_user(client, "uploader")
    response = client.post(
        "/v1/jobs",
        json={"filename": "ok\x07.log", "content_type": "text/plain", "size_bytes": 0, "extra": 1},
        headers=uploader.headers,
    )
    assert response.status_code == 422
    fields = {problem["field"] for problem in response.json()["errors"]}
    assert fields == {"filename", "size_bytes", "extra"}


def test_content_type_outside_the_allowlist_is_refused(client: TestClient) -> None:
    uploader = make_user(client, "uploader")
    response = client.post(
        "/v1/jobs", json=job_request(BODY, content_type="text/html"), headers=uploader.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"field": "content_type", "message": response.json()["detail"]}
    ]


def test_size_above_the_configured_limit_is_refused(client: TestClient, settings: Settings) -> None:
    uploader = make_user(client, "uploader")
    response = client.post(
        "/v1/jobs",
        json=job_request(BODY, size_bytes=settings.max_upload_bytes + 1),
        headers=uploader.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "size_bytes"


def test_paths_are_stripped_from_filenames(client: TestClient) -> None:
    uploader = make_user(client, "uploader")
    job = create_job(client, uploader, BODY, filename="C:\\fakepath\\..\\app.log")
    assert job["filename"] == "app.log"
    assert job["upload"]["fields"]["key"] == f"uploads/{job['id']}"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # JSON in UTF-8 with a BOM, or in UTF-16, is still JSON (RFC 8259 8.1).
        (b'\xef\xbb\xbf{"filename": "a.log", "content_type": "text/plain", "size_bytes": 1}', 201),
        (
            '{"filename": "a.log", "content_type": "text/plain", "size_bytes": 1}'.encode("utf-16"),
            201,
        ),
        (
            b'{"filename": "a.log", "content_type": "text/plain", "size_bytes": 1, "labels": '
            b'{"env": "\\ud800"}}',
            422,
        ),
        (b'{"filename": "a\\u0000.log", "content_type": "text/plain", "size_bytes": 1}', 422),
        (b'{"filename": "a.log", "content_type": "text/plain", "size_bytes": NaN}', 422),
        (b'{"filename": "a.log", "content_type": "text/plain", "size_bytes": 1e999}', 422),
        (b"\xff\xfe\x00", 400),
    ],
    ids=["utf-8-bom", "utf-16", "lone-surrogate-label", "nul-filename", "nan", "huge", "bytes"],
)
def test_odd_bodies_get_a_clear_answer_never_a_server_error(
    client: TestClient, body: bytes, expected: int
) -> None:
    user = make_user(client, "uploader")
    answer = client.post(
        "/v1/jobs",
        content=body,
        headers={**user.headers, "Content-Type": "application/json"},
    )
    assert answer.status_code == expected, answer.text
    if expected >= 400:
        assert answer.headers["content-type"] == "application/problem+json"

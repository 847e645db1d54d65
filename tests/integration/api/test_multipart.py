"""Large files in parts, on the real MinIO: part URLs signed for exact
sizes (storage refuses others), resuming from the parts storage lists,
completion joining only a whole file, cancel leaving no part behind."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import psycopg
import pytest
from starlette.testclient import TestClient

from ingest_api.core.config import Settings
from tests.integration.api.test_purge import LONG_AGO, purge, sql
from tests.support.api import ApiUser, job_request, make_user
from tests.support.queue import stream_messages

MIB = 1024**2
PART = 5 * MIB
# Three parts: two whole ones and a short last one.
BODY = os.urandom(2 * PART + 123_457)


def create_parts_job(client: TestClient, owner: ApiUser, body: bytes = BODY) -> dict[str, Any]:
    response = client.post(
        "/v1/jobs",
        json=job_request(body, content_type="application/octet-stream", part_size_bytes=PART),
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job


def part_urls(
    client: TestClient, owner: ApiUser, job_id: str, numbers: list[int], **extra: Any
) -> dict[int, dict[str, Any]]:
    response = client.post(
        f"/v1/jobs/{job_id}/parts",
        json={"parts": [{"part_number": n, **extra.get(str(n), {})} for n in numbers]},
        headers=owner.headers,
    )
    assert response.status_code == 200, response.text
    return {part["part_number"]: part for part in response.json()["parts"]}


def chunk(number: int, body: bytes = BODY) -> bytes:
    return body[(number - 1) * PART : number * PART]


def put(part: dict[str, Any], data: bytes) -> httpx.Response:
    """A PUT as any HTTP client sends it, with the headers the API gave."""
    headers = {k: v for k, v in part["headers"].items() if k.lower() != "content-length"}
    return httpx.put(part["url"], content=data, headers=headers, timeout=60)


def test_a_file_in_parts_is_joined_verified_and_queued(
    client: TestClient, settings: Settings, s3_client: Any
) -> None:
    owner = make_user(client, "uploader")
    job = create_parts_job(client, owner)
    assert job["upload"] is None
    assert (job["part_size_bytes"], job["part_count"]) == (PART, 3)

    urls = part_urls(client, owner, job["id"], [1, 2, 3])
    assert [urls[n]["size_bytes"] for n in (1, 2, 3)] == [PART, PART, 123_457]
    for number in (3, 1, 2):  # any order, as parallel uploads finish
        assert put(urls[number], chunk(number)).status_code == 200

    completed = client.post(f"/v1/jobs/{job['id']}/complete", headers=owner.headers)
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "queued"
    assert [m["job_id"] for m in stream_messages(settings)] == [job["id"]]
    stored = s3_client.get_object(Bucket=settings.s3_bucket, Key=f"uploads/{job['id']}")
    assert hashlib.sha256(stored["Body"].read()).digest() == hashlib.sha256(BODY).digest()


def test_storage_refuses_a_part_of_another_size_than_signed(client: TestClient) -> None:
    owner = make_user(client, "uploader")
    job = create_parts_job(client, owner)
    urls = part_urls(client, owner, job["id"], [1])
    too_long = put(urls[1], chunk(1) + b"x")
    too_short = put(urls[1], chunk(1)[:-1])
    assert too_long.status_code == 403, too_long.text
    assert too_short.status_code == 403, too_short.text
    assert "SignatureDoesNotMatch" in too_long.text


def test_storage_refuses_a_part_whose_bytes_differ_from_its_sha256(client: TestClient) -> None:
    owner = make_user(client, "uploader")
    job = create_parts_job(client, owner)
    digest = hashlib.sha256(chunk(1)).hexdigest()
    urls = part_urls(client, owner, job["id"], [1], **{"1": {"sha256": digest}})
    tampered = bytes([chunk(1)[0] ^ 1]) + chunk(1)[1:]
    refused = put(urls[1], tampered)
    assert refused.status_code == 400, refused.text
    assert "ChecksumMismatch" in refused.text
    assert put(urls[1], chunk(1)).status_code == 200


def test_completing_with_a_part_missing_is_refused_and_resuming_sends_the_rest(
    client: TestClient, settings: Settings
) -> None:
    owner = make_user(client, "uploader")
    job = create_parts_job(client, owner)
    urls = part_urls(client, owner, job["id"], [1, 2, 3])
    assert put(urls[1], chunk(1)).status_code == 200
    assert put(urls[3], chunk(3)).status_code == 200

    refused = client.post(f"/v1/jobs/{job['id']}/complete", headers=owner.headers)
    assert refused.status_code == 409
    assert "1 of 3 parts are not uploaded: 2" in refused.json()["detail"]
    assert stream_messages(settings, timeout=0.5) == []

    held = client.get(f"/v1/jobs/{job['id']}/parts", headers=owner.headers).json()
    assert [(p["part_number"], p["size_bytes"]) for p in held["parts"]] == [
        (1, PART),
        (3, 123_457),
    ]
    missing = set(range(1, held["part_count"] + 1)) - {p["part_number"] for p in held["parts"]}
    fresh = part_urls(client, owner, job["id"], sorted(missing))
    assert put(fresh[2], chunk(2)).status_code == 200
    done = client.post(f"/v1/jobs/{job['id']}/complete", headers=owner.headers)
    assert done.status_code == 200, done.text


def test_a_completion_retried_after_its_answer_was_lost_still_queues(
    client: TestClient, settings: Settings, s3_client: Any
) -> None:
    """The parts were joined, then the job stayed `created` (the answer was
    lost, say): the next /complete finds the upload gone and the object there."""
    owner = make_user(client, "uploader")
    job = create_parts_job(client, owner)
    urls = part_urls(client, owner, job["id"], [1, 2, 3])
    for number in (1, 2, 3):
        put(urls[number], chunk(number))
    held = client.get(f"/v1/jobs/{job['id']}/parts", headers=owner.headers).json()["parts"]
    upload_id = _upload_id(settings, job["id"])
    s3_client.complete_multipart_upload(
        Bucket=settings.s3_bucket,
        Key=f"uploads/{job['id']}",
        UploadId=upload_id,
        MultipartUpload={
            "Parts": [{"PartNumber": p["part_number"], "ETag": p["etag"]} for p in held]
        },
    )
    done = client.post(f"/v1/jobs/{job['id']}/complete", headers=owner.headers)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "queued"


def test_cancelling_aborts_the_upload_and_no_part_is_left(
    client: TestClient, settings: Settings, s3_client: Any
) -> None:
    owner = make_user(client, "uploader")
    job = create_parts_job(client, owner)
    urls = part_urls(client, owner, job["id"], [1, 2])
    put(urls[1], chunk(1))
    upload_id = _upload_id(settings, job["id"])

    cancelled = client.post(f"/v1/jobs/{job['id']}/cancel", headers=owner.headers)
    assert cancelled.status_code == 200

    with pytest.raises(s3_client.exceptions.ClientError, match="NoSuchUpload"):
        s3_client.list_parts(
            Bucket=settings.s3_bucket, Key=f"uploads/{job['id']}", UploadId=upload_id
        )
    assert put(urls[2], chunk(2)).status_code == 404
    again = client.post(f"/v1/jobs/{job['id']}/parts", json={"parts": [{"part_number": 1}]},
                        headers=owner.headers)  # fmt: skip
    assert again.status_code == 409


def test_parts_are_asked_for_within_the_file_and_only_for_jobs_in_parts(
    client: TestClient, settings: Settings
) -> None:
    owner = make_user(client, "uploader")
    job = create_parts_job(client, owner)
    for body in ({"parts": [{"part_number": 4}]}, {"parts": [{"part_number": 0}]}, {"parts": []}):
        response = client.post(f"/v1/jobs/{job['id']}/parts", json=body, headers=owner.headers)
        assert response.status_code == 422, body
    # Refused before storage was asked to start an upload.
    assert _recorded_upload(settings, job["id"]) is None
    single = client.post("/v1/jobs", json=job_request(b"small"), headers=owner.headers).json()
    assert single["upload"] is not None
    assert single["part_count"] is None
    refused = client.post(
        f"/v1/jobs/{single['id']}/parts",
        json={"parts": [{"part_number": 1}]},
        headers=owner.headers,
    )
    assert refused.status_code == 409
    assert client.get(f"/v1/jobs/{job['id']}/upload", headers=owner.headers).status_code == 409
    stranger = make_user(client, "uploader")
    hidden = client.get(f"/v1/jobs/{job['id']}/parts", headers=stranger.headers)
    assert hidden.status_code == 404


def test_two_first_requests_at_once_share_one_upload(
    client: TestClient, settings: Settings
) -> None:
    owner = make_user(client, "uploader")
    job = create_parts_job(client, owner)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda n: part_urls(client, owner, job["id"], [n]), [1, 2, 3, 1]))
    upload_ids = {
        part["url"].split("uploadId=")[1].split("&")[0] for a in answers for part in a.values()
    }
    assert upload_ids == {_upload_id(settings, job["id"])}


def _recorded_upload(settings: Settings, job_id: str) -> str | None:
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute("SELECT upload_id FROM jobs WHERE id = %s", (job_id,)).fetchone()
    assert row is not None
    return None if row[0] is None else str(row[0])


def _upload_id(settings: Settings, job_id: str) -> str:
    upload_id = _recorded_upload(settings, job_id)
    assert upload_id
    return upload_id


def test_the_purge_drops_the_parts_of_an_upload_abandoned_past_retention(
    client: TestClient, settings: Settings, s3_client: Any
) -> None:
    owner = make_user(client, "uploader")
    abandoned, recent = create_parts_job(client, owner), create_parts_job(client, owner)
    for job in (abandoned, recent):
        put(part_urls(client, owner, job["id"], [1])[1], chunk(1))
    upload_ids = {job["id"]: _upload_id(settings, job["id"]) for job in (abandoned, recent)}
    sql(settings, f"UPDATE jobs SET updated_at = {LONG_AGO} WHERE id = %s", abandoned["id"])  # noqa: S608

    assert purge(settings)["jobs"] == 1

    def parts_left(job_id: str) -> int:
        answer = s3_client.list_parts(
            Bucket=settings.s3_bucket, Key=f"uploads/{job_id}", UploadId=upload_ids[job_id]
        )
        return len(answer.get("Parts", []))

    with pytest.raises(s3_client.exceptions.ClientError, match="NoSuchUpload"):
        parts_left(abandoned["id"])
    assert parts_left(recent["id"]) == 1

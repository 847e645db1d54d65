"""GET /v1/jobs/{id} answers with an ETag; with If-None-Match naming it, 304
at once, or a long poll (`wait`) that answers as soon as the job changes."""

from __future__ import annotations

import threading
import time

from starlette.testclient import TestClient

from tests.support.api import create_job, make_user

BODY = b"2026-11-28T10:00:00Z INFO ready\n"


def test_an_unchanged_job_is_304_with_its_etag(client: TestClient) -> None:
    user = make_user(client, "uploader")
    job = create_job(client, user, BODY)
    first = client.get(f"/v1/jobs/{job['id']}", headers=user.headers)
    tag = first.headers["etag"]

    again = client.get(f"/v1/jobs/{job['id']}", headers={**user.headers, "If-None-Match": tag})
    other = client.get(f"/v1/jobs/{job['id']}", headers={**user.headers, "If-None-Match": '"x"'})

    assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
    assert (other.status_code, other.json()["status"]) == (200, "created")


def test_a_long_poll_answers_when_the_job_changes(client: TestClient) -> None:
    user = make_user(client, "uploader")
    job = create_job(client, user, BODY)
    tag = client.get(f"/v1/jobs/{job['id']}", headers=user.headers).headers["etag"]

    def cancel_soon() -> None:
        time.sleep(1.0)
        client.post(f"/v1/jobs/{job['id']}/cancel", headers=user.headers)

    canceller = threading.Thread(target=cancel_soon)
    started = time.monotonic()
    canceller.start()
    changed = client.get(
        f"/v1/jobs/{job['id']}?wait=20", headers={**user.headers, "If-None-Match": tag}
    )
    took = time.monotonic() - started
    canceller.join()

    assert changed.status_code == 200
    assert changed.json()["status"] == "cancelled"
    assert changed.headers["etag"] != tag
    assert 0.9 < took < 10


def test_a_long_poll_without_a_change_is_304_after_the_wait(client: TestClient) -> None:
    user = make_user(client, "uploader")
    job = create_job(client, user, BODY)
    tag = client.get(f"/v1/jobs/{job['id']}", headers=user.headers).headers["etag"]

    started = time.monotonic()
    unchanged = client.get(
        f"/v1/jobs/{job['id']}?wait=1", headers={**user.headers, "If-None-Match": tag}
    )

    assert unchanged.status_code == 304
    assert time.monotonic() - started >= 1.0


def test_a_wait_past_the_limit_is_refused(client: TestClient) -> None:
    user = make_user(client, "uploader")
    job = create_job(client, user, BODY)
    answer = client.get(f"/v1/jobs/{job['id']}?wait=31", headers=user.headers)
    assert answer.status_code == 422

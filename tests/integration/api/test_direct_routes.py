"""The direct routes (http.direct) answer exactly as FastAPI's routes do.

Every request below goes to two apps on the same database: one with the
direct routes, one without (the reference). Their answers must match in
status, headers that matter and body, once the values that differ by
nature (ids, times, signatures, request ids) are masked. Cases the direct
routes hand back to FastAPI (invalid bodies, other content types, large
bodies) are here too: the body must reach FastAPI intact.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from ingest_api.app import create_app
from ingest_api.core.config import Settings
from tests.support.api import ApiUser, bearer, job_request, make_user

BODY = b"2026-11-28T10:00:00Z INFO ready\n"
# Values that differ between any two answers, whoever serves them.
VOLATILE_KEYS = {
    "id",
    "owner_id",
    "created_at",
    "updated_at",
    "request_id",
    "object_key",
    "expires_at",
    "url",
    "fields",
    "instance",
}
COMPARED_HEADERS = ("content-type", "www-authenticate", "idempotent-replayed", "retry-after")

# What TestClient's requests return (its HTTP client's response type).
Answered = Any


@pytest.fixture
def apps(settings: Settings) -> Iterator[tuple[TestClient, TestClient]]:
    with (
        TestClient(create_app(settings), raise_server_exceptions=False) as direct,
        TestClient(
            create_app(settings, direct_routes=False), raise_server_exceptions=False
        ) as reference,
    ):
        yield direct, reference


def masked(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: "<volatile>" if k in VOLATILE_KEYS else masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(item) for item in value]
    return value


def answer(response: Answered) -> tuple[int, dict[str, str], Any]:
    headers = {
        name: response.headers[name] for name in COMPARED_HEADERS if name in response.headers
    }
    try:
        body = masked(response.json())
    except json.JSONDecodeError:
        body = response.text
    return response.status_code, headers, body


def assert_same_answer(
    apps: tuple[TestClient, TestClient], send: Callable[[TestClient], Answered]
) -> tuple[int, dict[str, str], Any]:
    direct, reference = (answer(send(client)) for client in apps)
    assert direct == reference
    return direct


CREATE_CASES: dict[str, tuple[dict[str, Any] | bytes, dict[str, str]]] = {
    "valid": (job_request(BODY), {}),
    "labelled, type in capitals, folder in the name": (
        job_request(BODY, labels={"team": "checkout"}, content_type=" Text/Plain ")
        | {"filename": "C:\\fakepath\\app.log"},
        {},
    ),
    "size as text, which both validators accept": (
        job_request(BODY, size_bytes=str(len(BODY))),
        {},
    ),
    "no sha256": ({"filename": "a.log", "content_type": "text/plain", "size_bytes": 3}, {}),
    "type not allowed": (job_request(BODY, content_type="application/x-msdownload"), {}),
    "too large": (job_request(BODY, size_bytes=10**15), {}),
    "bad idempotency key": (job_request(BODY), {"Idempotency-Key": "has space"}),
    "missing field": ({"content_type": "text/plain", "size_bytes": 3}, {}),
    "unknown field": (job_request(BODY, owner="someone-else"), {}),
    "control character in the name": (job_request(BODY, filename="a\x07.log"), {}),
    "not json": (b"{filename: app.log", {}),
    "declared as text": (json.dumps(job_request(BODY)).encode(), {"Content-Type": "text/plain"}),
    "larger than taken directly": (job_request(BODY, filename="a" * 70_000), {}),
}


@pytest.mark.parametrize("case", CREATE_CASES)
def test_job_creation_answers_as_fastapi_does(
    apps: tuple[TestClient, TestClient], case: str
) -> None:
    uploader = make_user(apps[0], "uploader")
    payload, extra_headers = CREATE_CASES[case]
    headers = {**uploader.headers, **extra_headers}

    def send(client: TestClient) -> Answered:
        if isinstance(payload, bytes):
            headers.setdefault("Content-Type", "application/json")
            return client.post("/v1/jobs", content=payload, headers=headers)
        return client.post("/v1/jobs", json=payload, headers=headers)

    assert_same_answer(apps, send)


@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-a-token", "Basic YWRtaW46YWRtaW4=", "Bearer "]
)
def test_creation_without_a_good_token_answers_as_fastapi_does(
    apps: tuple[TestClient, TestClient], authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    status, _, _ = assert_same_answer(
        apps, lambda client: client.post("/v1/jobs", json=job_request(BODY), headers=headers)
    )
    assert status == 401


def test_a_viewer_is_refused_as_fastapi_refuses_them(apps: tuple[TestClient, TestClient]) -> None:
    viewer = make_user(apps[0], "viewer")
    status, _, _ = assert_same_answer(
        apps,
        lambda client: client.post("/v1/jobs", json=job_request(BODY), headers=viewer.headers),
    )
    assert status == 403


def test_an_idempotent_replay_answers_as_fastapi_does(
    apps: tuple[TestClient, TestClient],
) -> None:
    uploader = make_user(apps[0], "uploader")
    direct, reference = apps
    for client, key in ((direct, "direct-key"), (reference, "reference-key")):
        headers = {**uploader.headers, "Idempotency-Key": key}
        assert client.post("/v1/jobs", json=job_request(BODY), headers=headers).status_code == 201

    replays = [
        answer(client.post("/v1/jobs", json=job_request(BODY), headers=headers))
        for client, headers in (
            (direct, {**uploader.headers, "Idempotency-Key": "direct-key"}),
            (reference, {**uploader.headers, "Idempotency-Key": "reference-key"}),
        )
    ]
    assert replays[0] == replays[1]
    assert replays[0][0] == 200
    assert replays[0][1]["idempotent-replayed"] == "true"


def getter(path: str, headers: dict[str, str]) -> Callable[[TestClient], Answered]:
    return lambda client: client.get(path, headers=headers)


@pytest.fixture
def owner_and_job(apps: tuple[TestClient, TestClient]) -> tuple[ApiUser, str]:
    owner = make_user(apps[0], "uploader")
    created = apps[1].post("/v1/jobs", json=job_request(BODY), headers=owner.headers)
    assert created.status_code == 201
    return owner, created.json()["id"]


def test_reading_a_job_answers_as_fastapi_does(
    apps: tuple[TestClient, TestClient], owner_and_job: tuple[ApiUser, str]
) -> None:
    owner, job_id = owner_and_job
    stranger = make_user(apps[0], "uploader")
    forms = {
        "as created": job_id,
        "in capitals": job_id.upper(),
        "without hyphens": uuid.UUID(job_id).hex,
    }
    for form in forms.values():
        status, _, body = assert_same_answer(apps, getter(f"/v1/jobs/{form}", owner.headers))
        assert status == 200
        assert body["status"] == "created"

    refused = {
        "someone else's": (f"/v1/jobs/{job_id}", stranger.headers, 404),
        "unknown": (f"/v1/jobs/{uuid.uuid4()}", owner.headers, 404),
        "not a uuid": ("/v1/jobs/not-a-uuid", owner.headers, 422),
        "no token": (f"/v1/jobs/{job_id}", {}, 401),
        "bad token": (f"/v1/jobs/{job_id}", bearer("forged"), 401),
    }
    for path, headers, expected in refused.values():
        status, _, _ = assert_same_answer(apps, getter(path, headers))
        assert status == expected


def test_direct_requests_are_counted_under_their_route_template(
    apps: tuple[TestClient, TestClient], owner_and_job: tuple[ApiUser, str]
) -> None:
    direct, _ = apps
    owner, job_id = owner_and_job
    assert direct.get(f"/v1/jobs/{job_id}", headers=owner.headers).status_code == 200
    assert direct.post("/v1/jobs", json=job_request(BODY), headers=owner.headers).status_code == 201

    counted = {
        (sample.labels["method"], sample.labels["route"], sample.labels["status"])
        for family in text_string_to_metric_families(direct.get("/metrics").text)
        if family.name == "http_requests"
        for sample in family.samples
        if sample.name == "http_requests_total"
    }
    assert ("GET", "/v1/jobs/{job_id}", "200") in counted
    assert ("POST", "/v1/jobs", "201") in counted

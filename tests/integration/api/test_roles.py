"""The role matrix: what admins, uploaders and viewers may do, and that one
user never reaches another's jobs."""

from __future__ import annotations

import uuid

import pytest
from starlette.testclient import TestClient

from tests.support.api import (
    ApiUser,
    admin,
    create_job,
    job_request,
    make_user,
    upload,
    with_api_key,
)

BODY = b"line one\nline two\n"


def a_queued_job(client: TestClient, owner: ApiUser) -> dict[str, object]:
    job = create_job(client, owner, BODY)
    assert upload(job, BODY).status_code == 204
    assert client.post(f"/v1/jobs/{job['id']}/complete", headers=owner.headers).status_code == 200
    return job


# (method, path template, body) for each endpoint; {job} and {user} are filled in.
ENDPOINTS = {
    "list users": ("GET", "/v1/users", None),
    "create user": (
        "POST",
        "/v1/users",
        {"username": "x-{n}", "password": "a-long-password", "role": "viewer"},
    ),
    "update user": ("PATCH", "/v1/users/{user}", {"role": "viewer"}),
    "create job": ("POST", "/v1/jobs", job_request(BODY)),
    "list jobs": ("GET", "/v1/jobs", None),
    "read job": ("GET", "/v1/jobs/{job}", None),
    "job events": ("GET", "/v1/jobs/{job}/events", None),
    "cancel job": ("POST", "/v1/jobs/{job}/cancel", None),
    "complete job": ("POST", "/v1/jobs/{job}/complete", None),
    "retry job": ("POST", "/v1/jobs/{job}/retry", None),
}

# What each role gets on its OWN job (or, for user endpoints, in general).
EXPECTED = {
    "admin": {
        "list users": 200, "create user": 201, "update user": 200, "create job": 201,
        "list jobs": 200, "read job": 200, "job events": 200, "cancel job": 200,
        "complete job": 409, "retry job": 409,
    },
    "uploader": {
        "list users": 403, "create user": 403, "update user": 403, "create job": 201,
        "list jobs": 200, "read job": 200, "job events": 200, "cancel job": 200,
        "complete job": 409, "retry job": 409,
    },
    "viewer": {
        "list users": 403, "create user": 403, "update user": 403, "create job": 403,
        "list jobs": 200, "read job": 200, "job events": 200, "cancel job": 403,
        "complete job": 403, "retry job": 403,
    },
}  # fmt: skip


# An API key does what its user's role allows with jobs, and never manages users.
USER_ENDPOINTS = ("list users", "create user", "update user")


def expected(role: str, endpoint: str, credential: str) -> int:
    if credential == "api-key" and endpoint in USER_ENDPOINTS:
        return 403
    return EXPECTED[role][endpoint]


@pytest.mark.parametrize("credential", ["session", "api-key"])
@pytest.mark.parametrize("role", ["admin", "uploader", "viewer"])
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_role_matrix(client: TestClient, role: str, endpoint: str, credential: str) -> None:
    actor = admin(client) if role == "admin" else make_user(client, role)
    # The actor's own job, in `created` (a viewer's is made directly in the
    # database's name by promoting it: create it as uploader, then demote).
    if role == "viewer":
        owner = make_user(client, "uploader")
        job = create_job(client, owner, BODY)
        client.patch(
            f"/v1/users/{owner.id}", json={"role": "viewer"}, headers=admin(client).headers
        )
        actor = ApiUser(owner.id, owner.username, "viewer", owner.token)
    else:
        job = create_job(client, actor, BODY)
    if credential == "api-key":
        scopes = ("jobs:read",) if role == "viewer" else ("jobs:read", "jobs:write")
        actor = with_api_key(client, actor, scopes)
    other = make_user(client, "viewer")
    method, template, body = ENDPOINTS[endpoint]
    path = template.format(job=job["id"], user=other.id)
    if isinstance(body, dict):
        body = {
            k: (v.format(n=uuid.uuid4().hex[:6]) if isinstance(v, str) else v)
            for k, v in body.items()
        }

    response = client.request(method, path, json=body, headers=actor.headers)

    assert response.status_code == expected(role, endpoint, credential), response.text


def test_every_endpoint_needs_a_token(client: TestClient) -> None:
    for method, template, body in ENDPOINTS.values():
        path = template.format(job=uuid.uuid4(), user=uuid.uuid4())
        response = client.request(method, path, json=body)
        assert response.status_code == 401, (method, path)


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("GET", ""), ("GET", "/events"), ("POST", "/cancel"), ("POST", "/complete"),
     ("POST", "/retry"), ("GET", "/result"), ("GET", "/upload")],
)  # fmt: skip
def test_another_users_job_does_not_exist_for_you(
    client: TestClient, method: str, suffix: str
) -> None:
    owner = make_user(client, "uploader")
    stranger = make_user(client, "uploader")
    job = create_job(client, owner, BODY)

    response = client.request(method, f"/v1/jobs/{job['id']}{suffix}", headers=stranger.headers)

    assert response.status_code == 404
    assert client.get(f"/v1/jobs/{job['id']}", headers=owner.headers).json()["status"] == "created"


def test_lists_show_your_own_jobs_and_admins_see_all(client: TestClient) -> None:
    alice = make_user(client, "uploader")
    bob = make_user(client, "uploader")
    alices = {create_job(client, alice, BODY)["id"] for _ in range(2)}
    bobs = {create_job(client, bob, BODY)["id"]}

    def listed(user: ApiUser) -> set[str]:
        return {job["id"] for job in client.get("/v1/jobs", headers=user.headers).json()["data"]}

    assert listed(alice) == alices
    assert listed(bob) == bobs
    assert listed(admin(client)) == alices | bobs

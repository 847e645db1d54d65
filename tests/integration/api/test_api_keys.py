"""API keys on the real stack: shown once, stored hashed, scoped, revoked at
once, and refused whenever they are not exactly what was issued."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from starlette.testclient import TestClient

from ingest_api.api_keys.format import PREFIX, checksum
from ingest_api.app import create_app
from ingest_api.core.config import Settings
from tests.support.api import (
    ApiUser,
    admin,
    bearer,
    create_job,
    job_request,
    make_api_key,
    make_user,
    upload,
    wait_for_a_fresh_rate_window,
    with_api_key,
)

BODY = b"one line\nanother line\n"


def test_a_key_is_shown_once_and_stored_only_as_a_hash(
    client: TestClient, settings: Settings
) -> None:
    owner = make_user(client, "uploader")
    response = client.post(
        "/v1/api-keys",
        json={"name": "ci upload", "scopes": ["jobs:write", "jobs:read"], "expires_in_days": 30},
        headers=owner.headers,
    )
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    key = created["key"]
    assert key.startswith(PREFIX)
    assert created["prefix"] == key[: len(created["prefix"])]
    assert created["scopes"] == ["jobs:read", "jobs:write"]
    lifetime = datetime.fromisoformat(created["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=29) < lifetime <= timedelta(days=30)

    listed = client.get("/v1/api-keys", headers=owner.headers).json()["data"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0]
    assert listed[0]["last_used_at"] is None
    with psycopg.connect(settings.database_url) as conn:
        stored = conn.execute("SELECT * FROM api_keys").fetchone()
    assert stored is not None
    assert not any(key[len(PREFIX) + 32 :] in str(value) for value in stored)
    assert hashlib.sha256(key[len(PREFIX) + 32 : -6].encode()).digest() in stored


def test_a_key_does_what_its_user_may_and_the_history_names_it(client: TestClient) -> None:
    owner = make_user(client, "uploader")
    created = make_api_key(client, owner)
    machine = ApiUser(owner.id, owner.username, owner.role, created["key"])

    job = create_job(client, machine, BODY)
    assert upload(job, BODY).status_code == 204
    assert client.post(f"/v1/jobs/{job['id']}/complete", headers=machine.headers).status_code == 200

    events = client.get(f"/v1/jobs/{job['id']}/events", headers=owner.headers).json()["data"]
    assert [(e["actor"], e["via"]) for e in events] == [
        (f"user:{owner.username}", f"api-key:{created['id']}"),
        (f"user:{owner.username}", f"api-key:{created['id']}"),
    ]
    listed = client.get("/v1/api-keys", headers=owner.headers).json()["data"]
    assert listed[0]["last_used_at"] is not None


def test_the_history_says_a_login_acted_when_one_did(client: TestClient) -> None:
    owner = make_user(client, "uploader")
    job = create_job(client, owner, BODY)
    client.post(f"/v1/jobs/{job['id']}/cancel", headers=owner.headers)
    events = client.get(f"/v1/jobs/{job['id']}/events", headers=owner.headers).json()["data"]
    assert [e["via"] for e in events] == ["session", "session"]


def test_revoking_a_key_refuses_its_next_request(client: TestClient) -> None:
    owner = make_user(client, "uploader")
    created = make_api_key(client, owner)
    key = bearer(created["key"])
    assert client.get("/v1/jobs", headers=key).status_code == 200

    assert client.delete(f"/v1/api-keys/{created['id']}", headers=owner.headers).status_code == 204

    refused = client.get("/v1/jobs", headers=key)
    assert refused.status_code == 401
    assert "revoked" in refused.json()["detail"]
    assert client.delete(f"/v1/api-keys/{created['id']}", headers=owner.headers).status_code == 204
    listed = client.get("/v1/api-keys", headers=owner.headers).json()["data"]
    assert listed[0]["revoked_at"] is not None


def test_a_key_used_beyond_its_scope_is_forbidden(client: TestClient) -> None:
    owner = make_user(client, "uploader")
    job = create_job(client, owner, BODY)
    reader = bearer(make_api_key(client, owner, ("jobs:read",))["key"])
    writer = bearer(make_api_key(client, owner, ("jobs:write",))["key"])

    assert client.get(f"/v1/jobs/{job['id']}", headers=reader).status_code == 200
    for method, path in [
        ("POST", "/v1/jobs"),
        ("POST", f"/v1/jobs/{job['id']}/cancel"),
        ("POST", f"/v1/jobs/{job['id']}/complete"),
        ("GET", f"/v1/jobs/{job['id']}/upload"),
    ]:
        response = client.request(method, path, json=job_request(BODY), headers=reader)
        assert response.status_code == 403, (method, path)
        assert "jobs:write" in response.json()["detail"]
    for path in ["/v1/jobs", f"/v1/jobs/{job['id']}", f"/v1/jobs/{job['id']}/events"]:
        response = client.get(path, headers=writer)
        assert response.status_code == 403, path
        assert "jobs:read" in response.json()["detail"]
    assert client.post("/v1/jobs", json=job_request(BODY), headers=writer).status_code == 201


def test_a_key_manages_neither_keys_nor_users(client: TestClient) -> None:
    boss = admin(client)
    key = bearer(make_api_key(client, boss)["key"])
    for method, path, body in [
        ("POST", "/v1/api-keys", {"name": "another", "scopes": ["jobs:read"]}),
        ("GET", "/v1/api-keys", None),
        ("GET", "/v1/users", None),
        ("POST", "/v1/users", {"username": "someone", "password": "a-long-password"}),
    ]:
        response = client.request(method, path, json=body, headers=key)
        assert response.status_code == 403, (method, path)
        assert "API key cannot" in response.json()["detail"]
    assert client.get("/v1/users/me", headers=key).json()["username"] == boss.username


def test_keys_hold_no_more_than_their_users_role(client: TestClient) -> None:
    viewer = make_user(client, "viewer")
    refused = client.post(
        "/v1/api-keys", json={"name": "x", "scopes": ["jobs:write"]}, headers=viewer.headers
    )
    assert refused.status_code == 403
    read_only = make_api_key(client, viewer, ("jobs:read",))
    assert client.get("/v1/jobs", headers=bearer(read_only["key"])).status_code == 200


def test_only_an_admin_makes_keys_for_others_and_revokes_theirs(client: TestClient) -> None:
    alice = make_user(client, "uploader")
    bob = make_user(client, "uploader")
    body = {"name": "for bob", "scopes": ["jobs:read"], "user_id": bob.id}
    assert client.post("/v1/api-keys", json=body, headers=alice.headers).status_code == 403
    made = client.post("/v1/api-keys", json=body, headers=admin(client).headers)
    assert made.status_code == 201
    assert made.json()["user_id"] == bob.id
    assert client.get("/v1/users/me", headers=bearer(made.json()["key"])).json()["id"] == bob.id

    bobs = make_api_key(client, bob)
    assert client.delete(f"/v1/api-keys/{bobs['id']}", headers=alice.headers).status_code == 404
    assert [k["id"] for k in client.get("/v1/api-keys", headers=alice.headers).json()["data"]] == []
    everyone = client.get("/v1/api-keys", headers=admin(client).headers).json()["data"]
    assert {bobs["id"], made.json()["id"]} <= {k["id"] for k in everyone}
    assert (
        client.delete(f"/v1/api-keys/{bobs['id']}", headers=admin(client).headers).status_code
        == 204
    )
    assert client.get("/v1/jobs", headers=bearer(bobs["key"])).status_code == 401

    unknown = {**body, "user_id": "00000000-0000-4000-8000-000000000000"}
    answer = client.post("/v1/api-keys", json=unknown, headers=admin(client).headers)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["field"] == "user_id"


def test_an_expired_key_is_refused(client: TestClient, settings: Settings) -> None:
    owner = make_user(client, "uploader")
    created = make_api_key(client, owner)
    with psycopg.connect(settings.database_url) as conn:
        conn.execute(
            "UPDATE api_keys SET expires_at = now() - interval '1 second' WHERE id = %s",
            (created["id"],),
        )
    refused = client.get("/v1/jobs", headers=bearer(created["key"]))
    assert refused.status_code == 401
    assert "expired" in refused.json()["detail"]


def test_a_disabled_users_keys_stop_at_once(client: TestClient) -> None:
    owner = make_user(client, "uploader")
    key = bearer(make_api_key(client, owner)["key"])
    job = create_job(client, owner, BODY)
    client.patch(f"/v1/users/{owner.id}", json={"is_active": False}, headers=admin(client).headers)
    for method, path in [
        ("GET", f"/v1/jobs/{job['id']}"),
        ("POST", "/v1/jobs"),
        ("GET", "/v1/jobs"),
    ]:
        response = client.request(method, path, json=job_request(BODY), headers=key)
        assert response.status_code == 401, (method, path)


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"), id="wrong check"),
        pytest.param(lambda key: key[:-7] + key[-6:], id="too short"),
        pytest.param(lambda key: key.replace(PREFIX, "ingx_"), id="another prefix"),
        pytest.param(lambda key: key + "\x00", id="a NUL"),
    ],
)
def test_a_mangled_key_is_refused(client: TestClient, mangle: object) -> None:
    owner = make_user(client, "uploader")
    key = make_api_key(client, owner)["key"]
    assert callable(mangle)
    response = client.get("/v1/jobs", headers={"Authorization": f"Bearer {mangle(key)}"})
    assert response.status_code == 401, response.text


def test_a_forged_secret_with_a_valid_check_is_refused(client: TestClient) -> None:
    owner = make_user(client, "uploader")
    real = make_api_key(client, owner)
    # What a forger can make: the real key's id, a secret of their own, and
    # the check computed over both (the check is no secret).
    body = real["key"][len(PREFIX) : len(PREFIX) + 32] + "x" * 43
    response = client.get("/v1/jobs", headers=bearer(f"{PREFIX}{body}{checksum(body)}"))
    assert response.status_code == 401
    assert "not valid" in response.json()["detail"]


def test_a_user_holds_a_bounded_number_of_active_keys(client: TestClient) -> None:
    owner = make_user(client, "uploader")
    keys = [make_api_key(client, owner, name=f"k{n}") for n in range(20)]
    refused = client.post(
        "/v1/api-keys", json={"name": "one more", "scopes": ["jobs:read"]}, headers=owner.headers
    )
    assert refused.status_code == 409
    client.delete(f"/v1/api-keys/{keys[0]['id']}", headers=owner.headers)
    assert make_api_key(client, owner, name="after revoking one")["key"]


def test_a_key_lives_no_longer_than_the_service_allows(client: TestClient) -> None:
    owner = make_user(client, "uploader")
    response = client.post(
        "/v1/api-keys",
        json={"name": "forever", "scopes": ["jobs:read"], "expires_in_days": 3650},
        headers=owner.headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "expires_in_days"


def test_keys_of_one_user_share_the_users_rate_limit(settings: Settings) -> None:
    limited = settings.model_copy(update={"rate_limit_per_minute": 12})
    with TestClient(create_app(limited)) as limited_client:
        wait_for_a_fresh_rate_window(30)
        owner = make_user(limited_client, "uploader")
        first, second = (with_api_key(limited_client, owner) for _ in range(2))
        answers = [
            limited_client.get("/v1/jobs", headers=(first if n % 2 else second).headers).status_code
            for n in range(12)
        ]
    assert 429 in answers
    assert answers.index(429) < 12 - 1

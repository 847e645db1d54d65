"""OIDC bearer tokens on the real stack: a provider's access token is a
caller like any other (roles, ownership, history), its user made on first
sight; and every token an attacker can make is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from starlette.testclient import TestClient

from ingest_api.app import create_app
from ingest_api.core.config import Settings
from tests.support.api import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    admin,
    bearer,
    job_request,
    settings_with,
)
from tests.support.identity_provider import (
    LocalIdentityProvider,
    identity_provider,
    new_rsa_key,
    oidc_settings,
)

BODY = b"a line\n"


@pytest.fixture
def idp() -> Iterator[LocalIdentityProvider]:
    with identity_provider() as provider:
        yield provider


@pytest.fixture
def oidc_client(settings: Settings, idp: LocalIdentityProvider) -> Iterator[TestClient]:
    trusting = settings_with(settings, oidc_issuers=[oidc_settings(idp)])
    with TestClient(create_app(trusting), raise_server_exceptions=False) as client:
        yield client


def test_a_providers_token_acts_and_its_user_is_made_on_first_sight(
    oidc_client: TestClient, idp: LocalIdentityProvider
) -> None:
    token = bearer(idp.token("alice", groups=["ingest-uploaders", "staff"]))

    me = oidc_client.get("/v1/users/me", headers=token)
    assert me.status_code == 200, me.text
    assert (me.json()["username"], me.json()["role"]) == ("corp:alice", "uploader")
    created = oidc_client.post("/v1/jobs", json=job_request(BODY), headers=token)
    assert created.status_code == 201, created.text
    events = oidc_client.get(f"/v1/jobs/{created.json()['id']}/events", headers=token).json()
    assert [(e["actor"], e["via"]) for e in events["data"]] == [("user:corp:alice", "oidc:corp")]

    again = bearer(idp.token("alice", groups=["ingest-uploaders"]))
    assert oidc_client.get("/v1/users/me", headers=again).json()["id"] == me.json()["id"]
    users = oidc_client.get("/v1/users", headers=admin(oidc_client).headers).json()["data"]
    assert [u["username"] for u in users].count("corp:alice") == 1


def test_the_provider_decides_the_role_on_every_new_token(
    oidc_client: TestClient, idp: LocalIdentityProvider
) -> None:
    uploader = bearer(idp.token("bob", groups=["ingest-uploaders"]))
    assert oidc_client.post("/v1/jobs", json=job_request(BODY), headers=uploader).status_code == 201
    viewer = bearer(idp.token("bob", groups=["ingest-viewers"]))
    assert oidc_client.post("/v1/jobs", json=job_request(BODY), headers=viewer).status_code == 403
    assert oidc_client.get("/v1/jobs", headers=viewer).status_code == 200
    boss = bearer(idp.token("bob", groups=["ingest-viewers", "ingest-admins"]))
    assert oidc_client.get("/v1/users", headers=boss).status_code == 200


def test_providers_users_keep_to_their_own_jobs(
    oidc_client: TestClient, idp: LocalIdentityProvider
) -> None:
    alice = bearer(idp.token("alice"))
    mallory = bearer(idp.token("mallory"))
    job = oidc_client.post("/v1/jobs", json=job_request(BODY), headers=alice).json()
    for method, suffix in [("GET", ""), ("POST", "/cancel"), ("GET", "/events")]:
        response = oidc_client.request(method, f"/v1/jobs/{job['id']}{suffix}", headers=mallory)
        assert response.status_code == 404, (method, suffix)
    assert oidc_client.get("/v1/jobs", headers=mallory).json()["data"] == []


def test_a_caller_the_provider_grants_no_role_is_forbidden(
    oidc_client: TestClient, idp: LocalIdentityProvider
) -> None:
    response = oidc_client.get("/v1/jobs", headers=bearer(idp.token("eve", groups=["staff"])))
    assert response.status_code == 403
    assert "grants this caller no role" in response.json()["detail"]


def test_an_admin_disabling_a_providers_user_outlasts_new_tokens(
    oidc_client: TestClient, idp: LocalIdentityProvider
) -> None:
    me = oidc_client.get("/v1/users/me", headers=bearer(idp.token("carol"))).json()
    boss = admin(oidc_client)
    oidc_client.patch(f"/v1/users/{me['id']}", json={"is_active": False}, headers=boss.headers)
    fresh = bearer(idp.token("carol", groups=["ingest-admins"]))
    assert oidc_client.get("/v1/jobs", headers=fresh).status_code == 401
    assert oidc_client.post("/v1/jobs", json=job_request(BODY), headers=fresh).status_code == 401


def test_a_providers_user_may_make_api_keys(
    oidc_client: TestClient, idp: LocalIdentityProvider
) -> None:
    token = bearer(idp.token("dave"))
    made = oidc_client.post(
        "/v1/api-keys", json={"name": "dave's ci", "scopes": ["jobs:write"]}, headers=token
    )
    assert made.status_code == 201, made.text
    key = bearer(made.json()["key"])
    assert oidc_client.post("/v1/jobs", json=job_request(BODY), headers=key).status_code == 201


def _unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(payload)}."


def _claims_of(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _hmac_with_public_key(idp: LocalIdentityProvider) -> str:
    """HS256, the provider's public key (as published) for its secret: the
    classic confusion of a verifier that lets the token name the algorithm.
    PyJWT itself refuses to sign with PEM text, so the HMAC is made by hand."""
    pem = idp.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": idp.kid}
    unsigned = _unsigned(header, _claims_of(idp.token("mallory", groups=["ingest-admins"])))[:-1]
    signature = hmac.new(pem, unsigned.encode(), hashlib.sha256).digest()
    return f"{unsigned}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


ATTACKS = {
    "signed by an unknown key": lambda idp: idp.token("mallory", key=new_rsa_key()),
    "an unknown key id": lambda idp: idp.token(
        "mallory", key=new_rsa_key(), headers={"kid": "not-published"}
    ),
    "alg none": lambda idp: _unsigned(
        {"alg": "none", "typ": "JWT", "kid": idp.kid},
        _claims_of(idp.token("mallory", groups=["ingest-admins"])),
    ),
    "HMAC with the public key as secret": _hmac_with_public_key,
    "another issuer": lambda idp: idp.token("mallory", iss="https://evil.example.com"),
    "our own issuer, the provider's key": lambda idp: idp.token("mallory", iss="ingest-api"),
    "another audience": lambda idp: idp.token("mallory", aud="another-api"),
    "expired": lambda idp: idp.token("mallory", lifetime=-60),
    "not yet valid": lambda idp: idp.token("mallory", nbf=int(time.time()) + 3600),
    "no expiry": lambda idp: idp.token("mallory", drop=("exp",)),
    "no subject": lambda idp: idp.token("mallory", drop=("sub",)),
    "no key id": lambda idp: jwt.encode(
        _claims_of(idp.token("mallory")), idp.key, algorithm="RS256"
    ),
    "a subject no name can hold": lambda idp: idp.token("mal\x00lory"),
    "not a JWT": lambda idp: "not.a.jwt",
}


# Why each is refused: for the right reason, not by luck.
REASONS = {
    "signed by an unknown key": "Signature verification failed",
    "an unknown key id": "not signed by a key 'corp' publishes",
    "alg none": "alg value is not allowed",
    "HMAC with the public key as secret": "alg value is not allowed",
    "another issuer": "tokens of this issuer are not accepted",
    "our own issuer, the provider's key": "alg value is not allowed",
    "another audience": "Audience doesn't match",
    "expired": "the token has expired",
    "not yet valid": "not yet valid",
    "no expiry": 'missing the "exp" claim',
    "no subject": 'missing the "sub" claim',
    "no key id": "not signed by a key 'corp' publishes",
    "a subject no name can hold": "characters no name may",
    "not a JWT": "the token is invalid",
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_tokens_an_attacker_makes_are_refused(
    oidc_client: TestClient, idp: LocalIdentityProvider, attack: str
) -> None:
    token = ATTACKS[attack](idp)
    for method, path in [("GET", "/v1/jobs"), ("POST", "/v1/jobs"), ("GET", "/v1/users")]:
        response = oidc_client.request(method, path, json=job_request(BODY), headers=bearer(token))
        assert response.status_code == 401, (attack, method, path, response.text)
        assert REASONS[attack] in response.json()["detail"], attack
    users = oidc_client.get("/v1/users", headers=admin(oidc_client).headers).json()["data"]
    assert [u["username"] for u in users] == [ADMIN_USERNAME]


def test_a_rotated_key_is_fetched_when_a_token_names_it(
    oidc_client: TestClient, idp: LocalIdentityProvider
) -> None:
    assert oidc_client.get("/v1/jobs", headers=bearer(idp.token("alice"))).status_code == 200
    fetches = idp.jwks_fetches
    idp.rotate()
    # PyJWT's client fetches the keys again for an unknown key id, at most
    # every 30 s: a rotation shortly after a fetch waits that long.
    time.sleep(30.5)
    assert oidc_client.get("/v1/jobs", headers=bearer(idp.token("alice"))).status_code == 200
    assert idp.jwks_fetches == fetches + 1


def test_with_password_login_off_only_tokens_and_keys_get_in(
    settings: Settings, idp: LocalIdentityProvider
) -> None:
    locked = settings_with(settings, password_login=False, oidc_issuers=[oidc_settings(idp)])
    with TestClient(create_app(locked)) as client:
        refused = client.post(
            "/v1/auth/token", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        )
        assert refused.status_code == 403
        assert "password login is switched off" in refused.json()["detail"]
        token = bearer(idp.token("ops", groups=["ingest-admins"]))
        assert client.get("/v1/users", headers=token).status_code == 200


def test_an_unreachable_provider_is_a_503_and_others_still_get_in(
    settings: Settings,
) -> None:
    with identity_provider() as gone:
        token = gone.token("alice")
        config = oidc_settings(gone)
    trusting = settings_with(settings, oidc_issuers=[config])
    with TestClient(create_app(trusting)) as client:
        response = client.get("/v1/jobs", headers=bearer(token))
        assert response.status_code == 503
        assert response.json()["dependency"] == "identity-provider:corp"
        assert client.get("/v1/jobs", headers=admin(client).headers).status_code == 200


def test_a_provider_that_hangs_is_asked_once_not_by_every_request(settings: Settings) -> None:
    # A socket that takes connections and never answers: each fetch of the
    # discovery document waits for its timeout (10 s).
    silent = socket.create_server(("127.0.0.1", 0))
    issuer = f"http://127.0.0.1:{silent.getsockname()[1]}"
    config = {"name": "corp", "issuer": issuer, "audience": "ingest-api"}
    token = jwt.encode(
        {"iss": issuer, "sub": "x", "aud": "ingest-api", "exp": int(time.time()) + 60},
        new_rsa_key(),
        algorithm="RS256",
        headers={"kid": "k"},
    )
    try:
        with TestClient(create_app(settings_with(settings, oidc_issuers=[config]))) as client:
            first = client.get("/v1/jobs", headers=bearer(token))
            started = time.monotonic()
            answers = [client.get("/v1/jobs", headers=bearer(token)) for _ in range(5)]
            waited = time.monotonic() - started
    finally:
        silent.close()
    assert first.status_code == 503
    assert [answer.status_code for answer in answers] == [503] * 5
    assert waited < 5, waited


def test_an_admin_cannot_change_a_role_the_provider_decides(
    oidc_client: TestClient, idp: LocalIdentityProvider
) -> None:
    me = oidc_client.get("/v1/users/me", headers=bearer(idp.token("erin"))).json()
    boss = admin(oidc_client)
    refused = oidc_client.patch(
        f"/v1/users/{me['id']}", json={"role": "admin"}, headers=boss.headers
    )
    assert refused.status_code == 409
    assert "identity provider" in refused.json()["detail"]
    same = oidc_client.patch(
        f"/v1/users/{me['id']}", json={"role": "uploader"}, headers=boss.headers
    )
    assert same.status_code == 200

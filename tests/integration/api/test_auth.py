"""Logging in, refreshing, and every way a token must be refused (RFC 8725)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from starlette.testclient import TestClient

from ingest_api.core.config import Settings
from tests.support.api import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    DEFAULT_PASSWORD,
    admin,
    bearer,
    login,
    make_user,
)


def forged(settings: Settings, user_id: str, *, key: str | None = None, **claims: object) -> str:
    now = datetime.now(UTC)
    payload = {
        "sub": user_id,
        "type": "access",
        "jti": str(uuid.uuid4()),
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        **claims,
    }
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, key or settings.jwt_secret_key, algorithm="HS256")


def test_login_returns_an_access_and_a_refresh_token(client: TestClient) -> None:
    tokens = login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
    assert tokens["token_type"] == "bearer"
    me = client.get("/v1/users/me", headers=bearer(tokens["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == ADMIN_USERNAME
    assert me.json()["role"] == "admin"


@pytest.mark.parametrize(
    ("username", "password"),
    [
        (ADMIN_USERNAME, "wrong-password"),
        ("nobody-at-all", ADMIN_PASSWORD),
        ("ad\x00min", ADMIN_PASSWORD),
        (ADMIN_USERNAME + "\x00", ADMIN_PASSWORD),
    ],
    ids=["wrong-password", "unknown-user", "nul-in-the-name", "nul-after-a-real-name"],
)
def test_wrong_credentials_get_401_without_saying_which(
    client: TestClient, username: str, password: str
) -> None:
    response = client.post("/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json()["detail"] == "wrong username or password"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_refresh_rotates_and_a_spent_refresh_token_is_refused(client: TestClient) -> None:
    first = login(client, ADMIN_USERNAME, ADMIN_PASSWORD)

    second = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert (
        client.get("/v1/users/me", headers=bearer(second.json()["access_token"])).status_code == 200
    )

    replayed = client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replayed.status_code == 401
    assert "already used" in replayed.json()["detail"]


def test_a_refresh_token_is_not_an_access_token(client: TestClient) -> None:
    tokens = login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
    response = client.get("/v1/users/me", headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 401
    assert "access token is required" in response.json()["detail"]


def test_an_access_token_cannot_refresh(client: TestClient) -> None:
    tokens = login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
    response = client.post("/v1/auth/refresh", json={"refresh_token": tokens["access_token"]})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "attack",
    ["alg-none", "wrong-key", "wrong-audience", "wrong-issuer", "expired", "no-expiry", "garbage"],
)
def test_forged_or_stale_tokens_get_401(
    client: TestClient, settings: Settings, attack: str
) -> None:
    user_id = admin(client).id
    token = {
        "alg-none": lambda: jwt.encode(
            {
                "sub": user_id,
                "type": "access",
                "iss": settings.jwt_issuer,
                "aud": settings.jwt_audience,
            },
            None,
            algorithm="none",
        ),
        "wrong-key": lambda: forged(
            settings, user_id, key="another-secret-key-of-enough-length-0123"
        ),
        "wrong-audience": lambda: forged(settings, user_id, aud="someone-else"),
        "wrong-issuer": lambda: forged(settings, user_id, iss="someone-else"),
        "expired": lambda: forged(
            settings,
            user_id,
            iat=datetime.now(UTC) - timedelta(hours=2),
            exp=datetime.now(UTC) - timedelta(hours=1),
        ),
        "no-expiry": lambda: forged(settings, user_id, exp=None),
        "garbage": lambda: "not.a.jwt",
    }[attack]()

    response = client.get("/v1/users/me", headers=bearer(token))

    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_a_well_signed_token_passes_the_same_checks(client: TestClient, settings: Settings) -> None:
    # The control for the attacks above: only the attacked claim differed.
    user_id = admin(client).id
    assert client.get("/v1/users/me", headers=bearer(forged(settings, user_id))).status_code == 200


def test_disabling_a_user_ends_their_tokens(client: TestClient) -> None:
    uploader = make_user(client, "uploader")
    assert client.get("/v1/users/me", headers=uploader.headers).status_code == 200

    disabled = client.patch(
        f"/v1/users/{uploader.id}", json={"is_active": False}, headers=admin(client).headers
    )
    assert disabled.status_code == 200

    response = client.get("/v1/users/me", headers=uploader.headers)
    assert response.status_code == 401
    assert "disabled" in response.json()["detail"]
    relogin = client.post(
        "/v1/auth/token", data={"username": uploader.username, "password": DEFAULT_PASSWORD}
    )
    assert relogin.status_code == 401

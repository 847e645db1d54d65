"""Sessions on the real stack: a refresh token used twice ends its whole
session, logout ends it, a session has an absolute lifetime, and token
answers are never cached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import psycopg
from starlette.testclient import TestClient

from ingest_api.core.config import Settings
from tests.support.api import ADMIN_PASSWORD, ADMIN_USERNAME, login


def refreshed(client: TestClient, tokens: dict[str, Any]) -> Any:
    return client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})


def test_a_reused_refresh_token_ends_the_whole_session(client: TestClient) -> None:
    stolen = login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
    thief = refreshed(client, stolen).json()  # the thief refreshes first
    other_session = login(client, ADMIN_USERNAME, ADMIN_PASSWORD)

    victim = refreshed(client, stolen)  # the victim's turn: the token is spent
    thief_again = refreshed(client, thief)

    assert victim.status_code == 401
    assert "already used" in victim.json()["detail"]
    assert thief_again.status_code == 401
    assert "session was ended" in thief_again.json()["detail"]
    assert refreshed(client, other_session).status_code == 200  # other logins live on


def test_logout_ends_every_token_of_the_session(client: TestClient) -> None:
    first = login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
    second = refreshed(client, first).json()

    out = client.post("/v1/auth/logout", json={"refresh_token": second["refresh_token"]})

    assert out.status_code == 204
    assert refreshed(client, second).status_code == 401
    assert client.post("/v1/auth/logout", json={"refresh_token": "not-a-token"}).status_code == 401


def test_a_session_ends_at_its_absolute_lifetime(client: TestClient, settings: Settings) -> None:
    tokens = login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
    jti = jwt.decode(tokens["refresh_token"], options={"verify_signature": False})["jti"]
    started = datetime.now(UTC) - timedelta(seconds=settings.session_max_seconds + 1)
    with psycopg.connect(settings.database_url) as conn:
        conn.execute(
            "UPDATE refresh_tokens SET family_started_at = %s WHERE jti = %s", (started, jti)
        )

    answer = refreshed(client, tokens)

    assert answer.status_code == 401
    assert "older than the longest one allowed" in answer.json()["detail"]


def test_a_refresh_token_never_outlives_its_session(client: TestClient, settings: Settings) -> None:
    tokens = login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
    claims = jwt.decode(tokens["refresh_token"], options={"verify_signature": False})
    assert claims["exp"] <= claims["iat"] + settings.session_max_seconds


def test_token_answers_are_never_cached(client: TestClient) -> None:
    issued = client.post(
        "/v1/auth/token", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    )
    rotated = client.post(
        "/v1/auth/refresh", json={"refresh_token": issued.json()["refresh_token"]}
    )
    for answer in (issued, rotated):
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["pragma"] == "no-cache"

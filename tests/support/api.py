"""Builders for the API tests: settings for the local stack, users, tokens,
jobs and uploads, so that each test states only what it is about. The
helpers take any httpx client: the application in-process (TestClient) or
an `ingest-api` process."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from ingest_api.core.config import Settings

TEST_JWT_SECRET = "integration-tests-jwt-secret-0123456789abcdef"
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin-password-for-tests"
DEFAULT_PASSWORD = "a-long-enough-password"


def api_settings(
    *, database_url: str, redis_url: str, s3: dict[str, str], bucket: str, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "environment": "development",
        "database_url": database_url,
        "redis_url": redis_url,
        "queue_stream": "ingest:jobs",
        "s3_endpoint": s3["S3_ENDPOINT"],
        "s3_access_key": s3["S3_ACCESS_KEY"],
        "s3_secret_key": s3["S3_SECRET_KEY"],
        "s3_region": s3["S3_REGION"],
        "s3_bucket": bucket,
        "jwt_secret_key": TEST_JWT_SECRET,
        "bootstrap_admin_username": ADMIN_USERNAME,
        "bootstrap_admin_password": ADMIN_PASSWORD,
        "rate_limit_per_minute": 10_000,
        "login_attempts_per_account": 10_000,
        "login_attempts_per_client": 10_000,
        # Fresh gauges within a test's patience.
        "queue_gauges_interval_seconds": 0.5,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def wait_for_a_fresh_rate_window(seconds_needed: float = 15.0) -> None:
    """Rate limits count in fixed one-minute windows that reset on the minute:
    a test counting up to a limit must not straddle that reset, so it waits
    for the next window when fewer than `seconds_needed` are left."""
    left = 60.0 - time.time() % 60.0
    if left < seconds_needed:
        time.sleep(left + 0.05)


def login(client: httpx.Client, username: str, password: str) -> dict[str, Any]:
    response = client.post("/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class ApiUser:
    id: str
    username: str
    role: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


def admin(client: httpx.Client) -> ApiUser:
    tokens = login(client, ADMIN_USERNAME, ADMIN_PASSWORD)
    me = client.get("/v1/users/me", headers=bearer(tokens["access_token"])).json()
    return ApiUser(me["id"], ADMIN_USERNAME, "admin", tokens["access_token"])


def make_user(client: httpx.Client, role: str = "uploader", username: str | None = None) -> ApiUser:
    """A new user with `role`, created by the bootstrap admin, logged in."""
    name = username or f"{role}-{uuid.uuid4().hex[:8]}"
    response = client.post(
        "/v1/users",
        json={"username": name, "password": DEFAULT_PASSWORD, "role": role},
        headers=admin(client).headers,
    )
    assert response.status_code == 201, response.text
    tokens = login(client, name, DEFAULT_PASSWORD)
    return ApiUser(response.json()["id"], name, role, tokens["access_token"])


def job_request(body: bytes, **overrides: Any) -> dict[str, Any]:
    return {
        "filename": "app.log",
        "content_type": "text/plain",
        "size_bytes": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        **overrides,
    }


def create_job(
    client: httpx.Client, user: ApiUser, body: bytes, **overrides: Any
) -> dict[str, Any]:
    response = client.post("/v1/jobs", json=job_request(body, **overrides), headers=user.headers)
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job


def upload(job: dict[str, Any], body: bytes, content_type: str | None = None) -> httpx.Response:
    """Upload as any client would: a plain multipart POST to the presigned URL."""
    form = job["upload"]
    fields = dict(form["fields"])
    if content_type is not None:
        fields["Content-Type"] = content_type
    return httpx.post(
        form["url"],
        data=fields,
        files={"file": ("upload", body, fields["Content-Type"])},
        timeout=30,
    )


def settings_env(settings: Settings) -> dict[str, str]:
    """The environment variables that configure a process as `settings` do."""
    env: dict[str, str] = {}
    for name, value in settings.model_dump(mode="json").items():
        if value is None:
            continue
        if isinstance(value, list):
            env[name.upper()] = (
                ",".join(value) if name == "allowed_content_types" else json.dumps(value)
            )
        elif isinstance(value, bool):
            env[name.upper()] = "true" if value else "false"
        else:
            env[name.upper()] = str(value)
    return env


ALL_SCOPES = ("jobs:read", "jobs:write")


def make_api_key(
    client: httpx.Client,
    owner: ApiUser,
    scopes: tuple[str, ...] = ALL_SCOPES,
    *,
    name: str = "test key",
    **extra: Any,
) -> dict[str, Any]:
    """A new API key of `owner`'s, made with their login; its `key` is in the answer."""
    response = client.post(
        "/v1/api-keys", json={"name": name, "scopes": list(scopes), **extra}, headers=owner.headers
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def with_api_key(
    client: httpx.Client, user: ApiUser, scopes: tuple[str, ...] = ALL_SCOPES
) -> ApiUser:
    """The same user, calling with a new API key instead of their login."""
    return ApiUser(user.id, user.username, user.role, make_api_key(client, user, scopes)["key"])


def settings_with(settings: Settings, **update: Any) -> Settings:
    """`settings` changed as the environment would change them: validated."""
    return Settings(_env_file=None, **{**settings.model_dump(), **update})  # type: ignore[call-arg]

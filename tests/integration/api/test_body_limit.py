"""Bodies larger than the API takes are refused (413, problem+json) before
anything parses them, with or without a token, declared or streamed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ingest_api.core.config import Settings
from tests.support.api import settings_env
from tests.support.processes import ServerProcess, api_server

LIMIT = 4096


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[ServerProcess]:
    env = {**settings_env(settings), "MAX_REQUEST_BODY_BYTES": str(LIMIT)}
    with api_server(env, tmp_path / "api.log") as running:
        yield running


def _streamed(total: int) -> Iterator[bytes]:
    yield b'{"filename": "'
    for _ in range(total // 1024):
        yield b"a" * 1024
    yield b'"}'


@pytest.mark.parametrize("path", ["/v1/jobs", "/v1/users", "/v1/auth/refresh"])
def test_a_declared_body_over_the_limit_is_refused_without_a_token(
    server: ServerProcess, path: str
) -> None:
    body = b'{"filename": "' + b"a" * LIMIT + b'"}'
    answer = httpx.post(
        server.url + path, content=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/payload-too-large")


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/v1/jobs", "application/json"),
        ("/v1/users", "application/json"),
        ("/v1/auth/token", "application/x-www-form-urlencoded"),
    ],
)
def test_a_streamed_body_is_refused_once_it_passes_the_limit(
    server: ServerProcess, path: str, content_type: str
) -> None:
    answer = httpx.post(
        server.url + path, content=_streamed(64 * 1024), headers={"Content-Type": content_type}
    )
    assert answer.status_code == 413, answer.text
    assert answer.json()["type"].endswith("/payload-too-large")
    assert not [line for line in server.log_lines() if "Traceback" in line]


def test_a_body_within_the_limit_is_read_as_usual(server: ServerProcess) -> None:
    answer = httpx.post(
        server.url + "/v1/auth/refresh",
        json={"refresh_token": "x" * (LIMIT // 2)},
    )
    assert answer.status_code == 401

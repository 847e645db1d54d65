"""Requests larger than the API takes are refused (problem+json) before
anything parses them, with or without a token: bodies declared or streamed
(413), headers (431), query strings (414)."""

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


def test_headers_over_the_limit_are_refused_before_any_token_is_read(
    server: ServerProcess,
) -> None:
    padding = {f"X-Padding-{n}": "p" * 1000 for n in range(40)}  # about 40 KiB
    answer = httpx.get(f"{server.url}/v1/jobs", headers=padding)
    assert answer.status_code == 431
    assert answer.json()["type"].endswith("/headers-too-large")


def test_a_query_string_over_the_limit_is_refused(server: ServerProcess) -> None:
    answer = httpx.get(f"{server.url}/v1/jobs", params={"label": "a=" + "b" * 9000})
    assert answer.status_code == 414
    assert answer.json()["type"].endswith("/uri-too-long")
    # Under the limits, the same request goes on to be judged on its merits.
    assert httpx.get(f"{server.url}/v1/jobs", params={"label": "a=b"}).status_code == 401

"""The running API against its own OpenAPI document, by schemathesis: any
input it can derive (NUL and any Unicode included, valid and invalid), in
its coverage, fuzzing and stateful phases, as an admin and as an uploader.
No answer may be a server error, and every answer must be one the document
declares: its status, content type, body schema and headers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest

from ingest_api.core.config import Settings
from tests.support.api import ADMIN_PASSWORD, ADMIN_USERNAME, DEFAULT_PASSWORD, settings_env
from tests.support.processes import BIN_DIR, api_server

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    )
)
# Cases per operation and phase: enough to reach every parameter's edges on
# each run (the coverage phase adds its own on top), little enough for CI.
MAX_EXAMPLES = 25


def _token(url: str, username: str, password: str) -> str:
    answer = httpx.post(f"{url}/v1/auth/token", data={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def _as_role(url: str, role: str) -> str:
    admin = _token(url, ADMIN_USERNAME, ADMIN_PASSWORD)
    if role == "admin":
        return admin
    created = httpx.post(
        f"{url}/v1/users",
        json={"username": f"st-{role}", "password": DEFAULT_PASSWORD, "role": role},
        headers={"Authorization": f"Bearer {admin}"},
    )
    assert created.status_code == 201, created.text
    return _token(url, f"st-{role}", DEFAULT_PASSWORD)


@pytest.mark.parametrize("role", ["admin", "uploader"])
def test_every_answer_is_declared_and_none_is_a_server_error(
    settings: Settings, tmp_path: Path, role: str
) -> None:
    env = {**settings_env(settings), "ENVIRONMENT": "staging"}
    with api_server(env, tmp_path / "api.log") as server:
        token = _as_role(server.url, role)
        run = subprocess.run(
            [
                str(BIN_DIR / "schemathesis"),
                "run",
                f"{server.url}/openapi.json",
                "--header",
                f"Authorization: Bearer {token}",
                "--checks",
                CHECKS,
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--mode",
                "all",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--generation-allow-x00",
                "true",
                "--generation-codec",
                "utf-8",
                "--generation-database",
                "none",
                "--suppress-health-check",
                "all",
                "--no-color",
                "--output-sanitize",
                "true",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
            cwd=tmp_path,
        )
        server_errors = [line for line in server.log_lines() if "Traceback" in line]

    print(run.stdout[-3000:])  # the summary: operations, generated cases, seed
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-3000:]
    assert server_errors == []

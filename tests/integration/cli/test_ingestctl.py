"""ingestctl as a user runs it, against a real API and a real worker."""

from __future__ import annotations

import gzip
import json
import os
import stat
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.support.api import ADMIN_PASSWORD, ADMIN_USERNAME, admin, make_api_key
from tests.support.logs import json_lines
from tests.support.processes import BIN_DIR, ServerProcess


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "INGESTCTL_CONFIG": str(tmp_path / "cli" / "config.json")}


def ingestctl(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN_DIR / "ingestctl"), *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def login(env: dict[str, str], api: ServerProcess) -> None:
    done = ingestctl(
        env, "login", "--url", api.url, "--username", ADMIN_USERNAME, stdin=ADMIN_PASSWORD
    )
    assert done.returncode == 0, done.stderr


def test_login_upload_wait_and_result(
    api: ServerProcess, cli_env: dict[str, str], tmp_path: Path
) -> None:
    login(cli_env, api)
    config_file = Path(cli_env["INGESTCTL_CONFIG"])
    assert stat.S_IMODE(config_file.stat().st_mode) == 0o600

    log_file = tmp_path / "app.log.gz"
    log_file.write_bytes(gzip.compress(json_lines(30), mtime=0))
    uploaded = ingestctl(cli_env, "upload", str(log_file), "--label", "app=web", "--wait", "--json")
    assert uploaded.returncode == 0, uploaded.stderr
    job = json.loads(uploaded.stdout)
    assert job["status"] == "completed"
    assert job["labels"] == {"app": "web"}

    output = tmp_path / "records.ndjson.gz"
    result = ingestctl(cli_env, "result", job["id"], "--download", str(output))
    assert result.returncode == 0, result.stderr
    assert "format json_lines (gzip), 30 lines: 30 parsed" in result.stdout
    assert len(gzip.decompress(output.read_bytes()).splitlines()) == 30

    listed = ingestctl(cli_env, "list")
    assert job["id"] in listed.stdout
    shown = ingestctl(cli_env, "show", job["id"])
    assert "processing -> completed" in shown.stdout


def test_errors_are_clear_and_exit_non_zero(
    api: ServerProcess, cli_env: dict[str, str], tmp_path: Path
) -> None:
    not_logged_in = ingestctl(cli_env, "list")
    assert not_logged_in.returncode == 4
    assert "not logged in" in not_logged_in.stderr

    wrong = ingestctl(
        cli_env, "login", "--url", api.url, "--username", ADMIN_USERNAME, stdin="wrong-password"
    )
    assert wrong.returncode == 1
    assert "login failed: wrong username or password" in wrong.stderr

    login(cli_env, api)
    missing = ingestctl(cli_env, "upload", str(tmp_path / "nope.log"))
    assert missing.returncode == 2
    assert "no such file" in missing.stderr

    html = tmp_path / "page.html"
    html.write_text("<html></html>")
    refused = ingestctl(cli_env, "upload", str(html))
    assert refused.returncode == 1
    assert "content type 'text/html' is not allowed" in refused.stderr
    assert "request id" in refused.stderr

    unknown = ingestctl(cli_env, "show", "00000000-0000-0000-0000-000000000000")
    assert unknown.returncode == 1
    assert "does not exist" in unknown.stderr

    unreachable = {**cli_env, "INGESTCTL_CONFIG": str(tmp_path / "other.json")}
    gone = ingestctl(
        unreachable, "login", "--url", "http://127.0.0.1:9", "--username", "x", stdin="y"
    )
    assert gone.returncode == 3
    assert "cannot reach" in gone.stderr


def test_a_failed_job_exits_with_its_reason(
    api: ServerProcess, cli_env: dict[str, str], tmp_path: Path
) -> None:
    login(cli_env, api)
    broken = tmp_path / "broken.gz"
    broken.write_bytes(b"\x1f\x8b" + b"\x00" * 200)
    done = ingestctl(cli_env, "upload", str(broken), "--wait")
    assert done.returncode == 5
    assert "failed" in done.stderr
    assert "gzip" in done.stderr


def test_an_api_key_from_the_environment_needs_no_login(
    api: ServerProcess, cli_env: dict[str, str], tmp_path: Path
) -> None:
    with httpx.Client(base_url=api.url) as http:
        key = make_api_key(http, admin(http), name="ci")["key"]
    machine = {**cli_env, "INGEST_URL": api.url, "INGEST_API_KEY": key}
    log_file = tmp_path / "app.log"
    log_file.write_bytes(json_lines(5))

    uploaded = ingestctl(machine, "upload", str(log_file), "--wait", "--json")
    assert uploaded.returncode == 0, uploaded.stderr
    assert json.loads(uploaded.stdout)["status"] == "completed"
    assert not Path(cli_env["INGESTCTL_CONFIG"]).exists()

    token_file = tmp_path / "token"
    token_file.write_text(key + "\n")
    from_file = {**cli_env, "INGEST_URL": api.url, "INGEST_TOKEN_FILE": str(token_file)}
    assert ingestctl(from_file, "list").returncode == 0

    no_url = {**cli_env, "INGEST_API_KEY": key}
    refused = ingestctl(no_url, "list")
    assert refused.returncode == 2
    assert "INGEST_URL" in refused.stderr
    mangled = key[:-1] + ("0" if key[-1] != "0" else "1")
    wrong = ingestctl({**machine, "INGEST_API_KEY": mangled}, "list")
    assert wrong.returncode == 4
    assert "API key" in wrong.stderr

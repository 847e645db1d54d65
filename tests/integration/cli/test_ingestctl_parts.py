"""ingestctl with large files, against a real API, worker and MinIO: parts
sent several at once, and an upload killed midway continued by the next run
of the same command, with the same bytes in storage."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ingest_api.core.config import Settings
from tests.integration.cli.test_ingestctl import ingestctl, login
from tests.support.processes import BIN_DIR, ServerProcess

MIB = 1024**2
GIB = 1024**3


@pytest.fixture
def cli_env(tmp_path: Path, api: ServerProcess) -> dict[str, str]:
    env = {**os.environ, "INGESTCTL_CONFIG": str(tmp_path / "cli" / "config.json")}
    login(env, api)
    return env


def log_file(path: Path, size: int) -> Path:
    """A plain-text log of exactly `size` bytes, lines that differ."""
    block = b"".join(
        f"2026-12-06T03:00:{n % 60:02d}Z web-{n % 7} level=info request {n} served\n".encode()
        for n in range(16_000)
    )
    with path.open("wb") as out:
        written = 0
        while written < size:
            piece = block[: size - written]
            out.write(piece)
            written += len(piece)
    return path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 * MIB):
            digest.update(chunk)
    return digest.hexdigest()


def events(stderr: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_a_large_file_goes_in_parts_and_is_processed(
    cli_env: dict[str, str], tmp_path: Path, s3_client: Any, settings: Settings
) -> None:
    path = log_file(tmp_path / "big.log", 120 * MIB + 17)

    done = ingestctl(cli_env, "upload", str(path), "--concurrency", "3", "--wait", "--json")

    assert done.returncode == 0, done.stderr
    job = json.loads(done.stdout)
    assert job["status"] == "completed", job
    assert (job["part_size_bytes"], job["part_count"]) == (16 * MIB, 8)
    steps = events(done.stderr)
    assert steps[0]["event"] == "created"
    assert sorted(e["part_number"] for e in steps if e["event"] == "part_uploaded") == list(
        range(1, 9)
    )
    stored = s3_client.get_object(Bucket=settings.s3_bucket, Key=f"uploads/{job['id']}")
    assert hashlib.sha256(stored["Body"].read()).hexdigest() == sha256_of(path)


def test_a_killed_upload_of_a_gib_continues_where_it_stopped(
    cli_env: dict[str, str], tmp_path: Path, s3_client: Any, settings: Settings
) -> None:
    path = log_file(tmp_path / "archive.log", GIB)
    command = [str(BIN_DIR / "ingestctl"), "upload", str(path), "--json", "--concurrency", "4"]
    with subprocess.Popen(
        command, env=cli_env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as first:
        assert first.stderr is not None
        sent_before = 0
        for line in first.stderr:
            if b'"part_uploaded"' in line:
                sent_before += 1
                if sent_before == 20:
                    first.send_signal(signal.SIGKILL)  # no goodbye: as a lost machine
                    break
        first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL

    second = ingestctl(cli_env, *command[1:], "--wait", "--timeout", "900")

    assert second.returncode == 0, second.stderr
    job = json.loads(second.stdout)
    assert job["status"] == "completed", job
    assert job["part_count"] == 64
    steps = events(second.stderr)
    assert steps[0] == {"event": "resumed", "job_id": job["id"]}
    held = next(e["parts"] for e in steps if e["event"] == "parts_held")
    sent_after = sum(1 for e in steps if e["event"] == "part_uploaded")
    assert held >= 20
    assert held + sent_after == 64
    stored = s3_client.get_object(Bucket=settings.s3_bucket, Key=f"uploads/{job['id']}")
    digest = hashlib.sha256()
    for chunk in stored["Body"].iter_chunks(8 * MIB):
        digest.update(chunk)
    assert digest.hexdigest() == sha256_of(path)
    result = ingestctl(cli_env, "result", job["id"], "--json")
    assert json.loads(result.stdout)["summary"]["lines"] > 15_000_000

"""From upload to result through a real worker process: the summary, the
downloadable output, clear failures, cancellation, and the request id in
the worker's log lines."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from typing import Any

import httpx
from starlette.testclient import TestClient

from ingest_api.core.config import Settings
from tests.integration.worker.conftest import StartWorker
from tests.support.api import ApiUser
from tests.support.job_state import transitions, wait_for
from tests.support.logs import binary_blob, json_lines, large_gzip_log

Submit = Callable[..., dict[str, Any]]


def test_a_log_is_processed_and_its_result_downloadable(
    client: TestClient,
    uploader: ApiUser,
    settings: Settings,
    submit: Submit,
    start_worker: StartWorker,
) -> None:
    body = gzip.compress(json_lines(12), mtime=0)
    job = submit(body, content_type="application/gzip", filename="app.log.gz")

    with start_worker() as worker:
        row = wait_for(settings, job["id"], {"completed", "failed"})
        worker_log = worker.log_lines()

    assert row["status"] == "completed", row
    assert row["attempts"] == 1
    summary = row["result"]
    assert summary["format"] == "json_lines"
    assert summary["compression"] == "gzip"
    assert summary["lines"] == 12
    assert summary["parsed_lines"] == 12
    assert summary["levels"] == {"error": 2, "warning": 2, "info": 6, "debug": 2}
    assert summary["first_timestamp"].startswith("2026-11-28T10:00:00")
    assert summary["last_timestamp"].startswith("2026-11-28T10:00:11")

    answer = client.get(f"/v1/jobs/{job['id']}/result", headers=uploader.headers)
    assert answer.status_code == 200, answer.text
    download = httpx.get(answer.json()["download_url"])
    assert download.status_code == 200
    records = [json.loads(line) for line in gzip.decompress(download.content).splitlines()]
    assert [record["message"] for record in records][:2] == ["event 0", "event 1"]
    assert len(records) == 12

    assert [step[1] for step in transitions(settings, job["id"])] == [
        "created", "queued", "processing", "completed",
    ]  # fmt: skip
    about_job = [json.loads(line) for line in worker_log if job["id"] in line]
    assert about_job, "the worker logged nothing about the job"
    assert all(line.get("request_id") == f"req-{job['id'][:8]}" for line in about_job)


def test_a_corrupt_gzip_and_a_binary_file_fail_with_clear_reasons(
    settings: Settings, submit: Submit, start_worker: StartWorker
) -> None:
    corrupt = bytearray(gzip.compress(json_lines(500), mtime=0))
    corrupt[len(corrupt) // 2 : len(corrupt) // 2 + 16] = b"\x00" * 16
    bad_gzip = submit(bytes(corrupt), content_type="application/gzip")
    binary = submit(binary_blob(), content_type="application/octet-stream")
    good = submit(json_lines(3))

    with start_worker():
        failed_gzip = wait_for(settings, bad_gzip["id"], {"completed", "failed"})
        failed_binary = wait_for(settings, binary["id"], {"completed", "failed"})
        fine = wait_for(settings, good["id"], {"completed", "failed"})

    assert failed_gzip["status"] == "failed"
    assert "gzip" in failed_gzip["failure_reason"]
    assert failed_binary["status"] == "failed"
    assert "not" in failed_binary["failure_reason"]
    assert "text" in failed_binary["failure_reason"]
    assert fine["status"] == "completed"


def test_a_job_cancelled_while_it_runs_ends_cancelled(
    client: TestClient,
    uploader: ApiUser,
    settings: Settings,
    submit: Submit,
    start_worker: StartWorker,
) -> None:
    job = submit(large_gzip_log(300), content_type="application/gzip")

    with start_worker() as worker:
        wait_for(settings, job["id"], {"processing"})
        cancelled = client.post(f"/v1/jobs/{job['id']}/cancel", headers=uploader.headers)
        assert cancelled.status_code == 200
        # The worker notices, stops, and is free for other work.
        follow_up = submit(json_lines(2))
        assert wait_for(settings, follow_up["id"], {"completed"})["status"] == "completed"
        log = worker.log_lines()

    assert wait_for(settings, job["id"], {"cancelled"})["status"] == "cancelled"
    assert any("stopping" in line and job["id"] in line for line in log)

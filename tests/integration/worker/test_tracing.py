"""One unbroken trace from the client's `POST /v1/jobs/{id}/complete` to the
job's completion by the worker: the request's span continues the client's
traceparent, the relay's and the worker's spans hang under it, and the log
lines carry the trace id. Recorded by the SDK's in-memory exporter, in a
process of its own (tests/support/traced_job.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from ingest_api.core.config import Settings
from tests.support.api import settings_env
from tests.support.job_state import job_row
from tests.support.local_stack import REPO_ROOT

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{CLIENT_SPAN_ID}-01"


def traced_job(settings: Settings) -> tuple[list[dict[str, Any]], str]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.traced_job", TRACEPARENT],
        env={**settings_env(settings), "LOG_FORMAT": "json", "PATH": ""},
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    spans = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"name"')]
    return spans, done.stdout + done.stderr


def ancestors(span: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> list[str]:
    names = []
    while span["parent_id"] in by_id:
        span = by_id[span["parent_id"]]
        names.append(span["name"])
    return names


def test_one_trace_from_the_completion_request_to_the_jobs_last_write(
    settings: Settings,
) -> None:
    spans, output = traced_job(settings)
    by_id = {span["span_id"]: span for span in spans}
    by_name = {span["name"]: span for span in spans}

    server = by_name["POST /v1/jobs/{job_id}/complete"]
    assert server["kind"] == "SERVER"
    assert (server["trace_id"], server["parent_id"]) == (TRACE_ID, CLIENT_SPAN_ID)
    for step in ("relay job message", "handle job message", "pick up job", "process file",
                 "upload result", "finish job"):  # fmt: skip
        assert by_name[step]["trace_id"] == TRACE_ID, step
        # Unbroken: every step reaches the request's span through its parents.
        assert "POST /v1/jobs/{job_id}/complete" in ancestors(by_name[step], by_id), step
    assert by_name["relay job message"]["kind"] == "PRODUCER"
    assert by_name["handle job message"]["kind"] == "CONSUMER"
    assert by_name["finish job"]["attributes"]["ingest.state"] == "completed"
    job_id = by_name["handle job message"]["attributes"]["ingest.job_id"]
    assert job_row(settings, job_id)["status"] == "completed"

    # The worker's log lines carry the trace id.
    lines = [json.loads(line) for line in output.splitlines() if line.startswith('{"')]
    handled = [line for line in lines if line.get("message") == "job handled"]
    assert handled
    assert handled[0]["trace_id"] == TRACE_ID

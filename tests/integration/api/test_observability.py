"""Request ids from the edge to the queue, JSON logs, and /metrics, checked on
a real `ingest-api` process configured through its environment."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ingest_api.core.config import Settings
from tests.support.api import ADMIN_PASSWORD, ADMIN_USERNAME, job_request, settings_env
from tests.support.cluster import wait_for
from tests.support.processes import ServerProcess, api_server
from tests.support.queue import stream_messages

BODY = b'{"msg": "observed"}\n'
REQUEST_ID = "trace-abc.123"


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[ServerProcess]:
    env = {**settings_env(settings), "ENVIRONMENT": "staging", "LOG_FORMAT": "json"}
    with api_server(env, tmp_path / "api.log") as running:
        yield running


def json_lines(server: ServerProcess) -> list[dict[str, Any]]:
    return [json.loads(line) for line in server.log_lines() if line.startswith("{")]


def logged_for_request(server: ServerProcess, wanted: set[str]) -> list[dict[str, Any]] | None:
    """The JSON lines logged with REQUEST_ID, once they include each message in `wanted`."""
    lines = [line for line in json_lines(server) if line.get("request_id") == REQUEST_ID]
    return lines if {line["message"] for line in lines} >= wanted else None


def admin_headers(server: ServerProcess) -> dict[str, str]:
    tokens = httpx.post(
        f"{server.url}/v1/auth/token", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
    ).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def upload_and_complete(
    server: ServerProcess, headers: dict[str, str]
) -> tuple[str, httpx.Response]:
    job = httpx.post(f"{server.url}/v1/jobs", json=job_request(BODY), headers=headers).json()
    form = job["upload"]
    stored = httpx.post(form["url"], data=form["fields"], files={"file": ("f", BODY, "text/plain")})
    assert stored.status_code == 204
    completed = httpx.post(
        f"{server.url}/v1/jobs/{job['id']}/complete",
        headers={**headers, "X-Request-ID": REQUEST_ID},
    )
    return job["id"], completed


def test_request_id_reaches_the_response_the_logs_and_the_queue(
    server: ServerProcess, settings: Settings
) -> None:
    job_id, completed = upload_and_complete(server, admin_headers(server))

    assert completed.status_code == 200
    assert completed.headers["X-Request-ID"] == REQUEST_ID

    [message] = stream_messages(settings)
    assert message["request_id"] == REQUEST_ID

    # The access log line is written once the response is sent: wait for it.
    lines = wait_for(
        lambda: logged_for_request(server, {"job state changed", "request"}),
        timeout=10,
        message="the request's log lines",
    )
    for line in lines:
        assert {"timestamp", "level", "message", "module", "request_id"} <= set(line)
    [transition] = [line for line in lines if line["message"] == "job state changed"]
    assert transition["job_id"] == job_id
    assert transition["to_status"] == "queued"


@pytest.mark.parametrize("offered", ["has spaces", "x" * 200, "semi;colon"])
def test_an_unacceptable_request_id_is_replaced(server: ServerProcess, offered: str) -> None:
    response = httpx.get(f"{server.url}/healthz", headers={"X-Request-ID": offered})
    assert response.headers["X-Request-ID"] != offered
    assert len(response.headers["X-Request-ID"]) == 32


def test_metrics_parse_with_prometheus_own_parser(server: ServerProcess) -> None:
    headers = admin_headers(server)
    upload_and_complete(server, headers)
    httpx.get(f"{server.url}/v1/jobs/00000000-0000-0000-0000-000000000000", headers=headers)

    # Not on the API's own port: a client reaching the Service never sees them.
    assert httpx.get(f"{server.url}/metrics").status_code == 404
    assert server.metrics_url is not None
    text = httpx.get(server.metrics_url).text
    families = {family.name: family for family in text_string_to_metric_families(text)}

    requests = families["http_requests"].samples
    routes = {(s.labels["method"], s.labels["route"], s.labels["status"]) for s in requests}
    assert ("POST", "/v1/jobs/{job_id}/complete", "200") in routes
    assert ("GET", "/v1/jobs/{job_id}", "404") in routes
    assert all("00000000" not in route for _, route, _ in routes)
    assert "http_request_duration_seconds" in families
    transitions = {s.labels["state"]: s.value for s in families["ingest_job_transitions"].samples
                   if s.name.endswith("_total")}  # fmt: skip
    assert transitions["created"] >= 1
    assert transitions["queued"] >= 1
    assert "ingest_outbox_backlog" in families
    waited = {s.labels["state"]: s.value
              for s in families["ingest_job_state_duration_seconds"].samples
              if s.name.endswith("_count")}  # fmt: skip
    assert waited["created"] >= 1  # the job left `created` when it was queued


def queue_gauges(server: ServerProcess) -> dict[str, float] | None:
    """The queue's gauges, once they show the one queued message."""
    assert server.metrics_url is not None
    text = httpx.get(server.metrics_url).text
    gauges = {
        family.name: family.samples[0].value
        for family in text_string_to_metric_families(text)
        if family.name.startswith("ingest_queue_") and family.type == "gauge"
    }
    return gauges if gauges.get("ingest_queue_undelivered_messages") == 1 else None


def test_the_api_samples_the_queue_no_worker_reads(server: ServerProcess) -> None:
    upload_and_complete(server, admin_headers(server))
    gauges = wait_for(lambda: queue_gauges(server), timeout=10, message="the queue gauges")
    assert gauges["ingest_queue_messages"] == 1
    assert gauges["ingest_queue_pending_messages"] == 0
    assert gauges["ingest_queue_dead_letter_messages"] == 0
    assert 0 <= gauges["ingest_queue_oldest_message_age_seconds"] < 60

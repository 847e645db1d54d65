"""MinIO and PostgreSQL stopped under running workers, for real. An outage
is never the file's fault: `/complete` answers 503 and loses nothing, the
workers wait and retry, and every job still completes, exactly once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from ingest_api.core.config import Settings
from tests.integration.worker.conftest import StartWorker
from tests.support import cluster, local_stack
from tests.support.api import ApiUser, create_job, upload
from tests.support.job_state import transitions, wait_for
from tests.support.logs import json_lines, large_gzip_log

Submit = Callable[..., dict[str, Any]]


def completions(settings: Settings, job_id: str) -> int:
    return sum(1 for _, to, _ in transitions(settings, job_id) if to == "completed")


def dependency_waits(worker_url: str) -> dict[str, float]:
    families = text_string_to_metric_families(httpx.get(f"{worker_url}/metrics").text)
    family = next(f for f in families if f.name == "ingest_worker_dependency_waits")
    return {s.labels["dependency"]: s.value for s in family.samples if s.name.endswith("_total")}


def some_jobs(submit: Submit) -> list[dict[str, Any]]:
    """A long job (running when the outage starts) and short ones queued behind it."""
    running = submit(large_gzip_log(400), content_type="application/gzip")
    return [running, *(submit(json_lines(200, start_second=n)) for n in range(6))]


def test_a_minio_outage_delays_jobs_and_fails_none(
    settings: Settings,
    client: TestClient,
    uploader: ApiUser,
    submit: Submit,
    start_worker: StartWorker,
) -> None:
    jobs = some_jobs(submit)
    uploaded = create_job(client, uploader, b"uploaded before the outage\n")
    assert upload(uploaded, b"uploaded before the outage\n").status_code == 204
    complete = f"/v1/jobs/{uploaded['id']}/complete"

    with start_worker(WORKER_CONCURRENCY="2") as worker:
        wait_for(settings, jobs[0]["id"], {"processing"})
        local_stack.stop("minio")
        try:
            refused = client.post(complete, headers=uploader.headers)
            cluster.wait_for(
                lambda: dependency_waits(worker.url).get("s3", 0) > 0,
                timeout=60,
                message="the workers never met the outage",
            )
        finally:
            local_stack.start("minio")
        accepted = client.post(complete, headers=uploader.headers)
        for job in [*jobs, uploaded]:
            assert (
                wait_for(settings, job["id"], {"completed", "failed"}, timeout=180)["status"]
                == "completed"
            )

    assert refused.status_code == 503
    assert refused.json()["dependency"] == "s3"
    assert refused.headers["Retry-After"].isdigit()
    assert accepted.status_code == 200, accepted.text
    assert [completions(settings, job["id"]) for job in [*jobs, uploaded]] == [1] * 8


def test_a_postgresql_restart_under_running_workers_fails_no_job(
    settings: Settings, submit: Submit, start_worker: StartWorker
) -> None:
    jobs = some_jobs(submit)
    with start_worker(WORKER_CONCURRENCY="2") as first, start_worker() as second:
        wait_for(settings, jobs[0]["id"], {"processing"})
        local_stack.stop("postgres")
        try:
            cluster.wait_for(
                lambda: any(
                    dependency_waits(w.url).get("postgres", 0) > 0 for w in (first, second)
                ),
                timeout=60,
                message="the workers never met the outage",
            )
        finally:
            local_stack.start("postgres")
        for job in jobs:
            assert (
                wait_for(settings, job["id"], {"completed", "failed"}, timeout=180)["status"]
                == "completed"
            )

    assert [completions(settings, job["id"]) for job in jobs] == [1] * len(jobs)

"""Fixtures of the worker tests: the API in-process (to create, upload and
complete jobs as a client would) and real `ingest-worker` processes."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from ingest_api.core.config import Settings
from tests.support.api import ApiUser, create_job, make_user, settings_env, upload
from tests.support.processes import ServerProcess, worker_process

StartWorker = Callable[..., AbstractContextManager[ServerProcess]]


@pytest.fixture
def worker_env(settings: Settings) -> dict[str, str]:
    return {
        **settings_env(settings),
        "ENVIRONMENT": "staging",
        "LOG_FORMAT": "json",
        # Short, so a dead worker's message is reclaimed within the test.
        "WORKER_RECLAIM_IDLE_SECONDS": "3",
        "WORKER_MAX_DELIVERIES": "3",
        "WORKER_SHUTDOWN_GRACE_SECONDS": "1",
    }


@pytest.fixture
def start_worker(worker_env: dict[str, str], tmp_path: Path) -> StartWorker:
    """Start an `ingest-worker` (overrides as keyword arguments); stopped at the end."""
    counter = iter(range(100))

    def start(**overrides: str) -> AbstractContextManager[ServerProcess]:
        number = next(counter)
        env = {**worker_env, "WORKER_NAME": f"worker-{number}", **overrides}
        return worker_process(env, tmp_path / f"worker-{number}.log")

    return start


@pytest.fixture
def uploader(client: TestClient) -> ApiUser:
    return make_user(client, "uploader")


@pytest.fixture
def submit(client: TestClient, uploader: ApiUser) -> Callable[..., dict[str, Any]]:
    """Create a job for `body`, upload it and complete it: it is queued."""

    def submit_job(body: bytes, **job_fields: Any) -> dict[str, Any]:
        job = create_job(client, uploader, body, **job_fields)
        assert upload(job, body).status_code == 204
        completed = client.post(
            f"/v1/jobs/{job['id']}/complete",
            headers={**uploader.headers, "X-Request-ID": f"req-{job['id'][:8]}"},
        )
        assert completed.status_code == 200, completed.text
        return job

    return submit_job

"""The CLI tests' API: a real `ingest-api` process and a worker on the local stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest_api.core.config import Settings
from tests.support.api import settings_env
from tests.support.processes import ServerProcess, api_server, worker_process


@pytest.fixture
def api(settings: Settings, tmp_path: Path) -> Iterator[ServerProcess]:
    env = settings_env(settings)
    with api_server(env, tmp_path / "api.log") as server, worker_process(env, tmp_path / "w.log"):
        yield server

"""The e2e suite's one run of hack/e2e.sh (the README's main command), in
namespaces, databases and a Redis database of its own, shared by its tests:
the users' path checks what it printed, the observability tests scrape what
it left running."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from kubernetes import client as kube_client

from tests.support.local_stack import REPO_ROOT, Component

E2E_SCRIPT = REPO_ROOT / "hack" / "e2e.sh"
E2E_TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class E2ERun:
    env: dict[str, str]
    output: str

    @property
    def namespace(self) -> str:
        return self.env["E2E_NAMESPACE"]

    @property
    def operator_namespace(self) -> str:
        return self.env["E2E_OPERATOR_NAMESPACE"]

    @property
    def release(self) -> str:
        return self.env["E2E_RELEASE"]

    @property
    def work_dir(self) -> Path:
        """Where hack/e2e.sh keeps this run's files (the local kubelet's among them)."""
        state_dir = Path(os.environ.get("INGEST_STATE_DIR", REPO_ROOT / ".state"))
        return state_dir / f"e2e-{self.namespace}"


@pytest.fixture(scope="session")
def e2e_env(
    postgres_service: Component,
    redis_service: Component,
    minio_service: Component,
    kube_service: Component,
    kube_api: kube_client.ApiClient,
) -> Iterator[dict[str, str]]:
    # Every component through its fixture (hack/e2e.sh would start what is
    # missing itself): what the session starts, the session stops.
    suffix = uuid.uuid4().hex[:6]
    env = {
        **os.environ,
        "E2E_NAMESPACE": f"e2e-{suffix}",
        "E2E_OPERATOR_NAMESPACE": f"e2e-op-{suffix}",
        "E2E_DATABASE": f"e2e_{suffix}",
        "E2E_RELEASE": f"e2e-{suffix}",
        # Not the demo's (0, 1) nor the other tests' (15): a queue of its own
        # (and 10 for the production service).
        "E2E_REDIS_DB": "9",
    }
    yield env
    subprocess.run([str(E2E_SCRIPT), "down"], env=env, check=False, timeout=120)
    settings = kube_service.settings
    subprocess.run(
        [settings["HELM"], "uninstall", env["E2E_RELEASE"], "-n", env["E2E_OPERATOR_NAMESPACE"]],
        env={**env, "KUBECONFIG": settings["KUBECONFIG"]},
        check=False,
        capture_output=True,
        timeout=120,
    )
    core = kube_client.CoreV1Api(kube_api)
    for namespace in (env["E2E_NAMESPACE"], env["E2E_OPERATOR_NAMESPACE"]):
        # No kubelet is left to confirm the pods' end: remove them outright.
        core.delete_collection_namespaced_pod(namespace, grace_period_seconds=0)
        core.delete_namespace(namespace)
    admin_url = postgres_service.settings["DATABASE_URL"]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        for database in (env["E2E_DATABASE"], env["E2E_DATABASE"] + "_prod"):
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


@pytest.fixture(scope="session")
def e2e(e2e_env: dict[str, str]) -> E2ERun:
    """hack/e2e.sh, run once; its processes keep running until the session ends."""
    result = subprocess.run(
        [str(E2E_SCRIPT)],
        env=e2e_env,
        capture_output=True,
        text=True,
        timeout=E2E_TIMEOUT_SECONDS,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    return E2ERun(env=e2e_env, output=output)

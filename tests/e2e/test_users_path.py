"""The users' whole path, exactly as the README's main command walks it
(hack/e2e.sh), in namespaces of its own: helm installs the operator, an
IngestService from examples/ becomes a running API and worker (run by the
local kubelet), ingestctl uploads a real log file and gets its result, and
the production examples are judged by the policy."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from kubernetes import client as kube_client

from tests.support.local_stack import REPO_ROOT, Component

E2E_SCRIPT = REPO_ROOT / "hack" / "e2e.sh"


@pytest.fixture
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


def test_the_readme_main_path_end_to_end(
    e2e_env: dict[str, str], kube_api: kube_client.ApiClient
) -> None:
    result = subprocess.run(
        [str(E2E_SCRIPT)], env=e2e_env, capture_output=True, text=True, timeout=900, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]

    # The worked example: the uploaded file was processed by the deployed worker.
    assert "format syslog_rfc5424 (gzip), 5 lines: 5 parsed, 0 unparsed" in output
    assert "levels: info 2, error 1, warning 1, critical 1" in output
    assert "processing -> completed  worker:" in output
    state_dir = Path(os.environ.get("INGEST_STATE_DIR", REPO_ROOT / ".state"))
    records = state_dir / f"e2e-{e2e_env['E2E_NAMESPACE']}" / "checkout.ndjson.gz"
    assert records.exists()

    # The production policy: one example passes, two are refused, saying why.
    assert 'spec.cors.origins may not contain "*"' in output
    assert "PolicyCompliant=False: 3 production-policy violations" in output
    assert "is MinIO's default" in output

    custom = kube_client.CustomObjectsApi(kube_api)
    namespace = e2e_env["E2E_NAMESPACE"]
    logs = custom.get_namespaced_custom_object(
        "ingest.example.com", "v1alpha1", namespace, "ingestservices", "logs"
    )
    conditions = {c["type"]: c["status"] for c in logs["status"]["conditions"]}
    assert conditions["Ready"] == "True"
    assert conditions["PolicyCompliant"] == "True"
    weak = custom.get_namespaced_custom_object(
        "ingest.example.com", "v1alpha1", namespace, "ingestservices", "logs-weak"
    )
    assert {c["type"]: c["status"] for c in weak["status"]["conditions"]}[
        "PolicyCompliant"
    ] == "False"
    # Nothing of the non-compliant one was rolled out.
    apps = kube_client.AppsV1Api(kube_api)
    rolled = apps.list_namespaced_deployment(
        namespace, label_selector="app.kubernetes.io/instance=logs-weak"
    )
    assert rolled.items == []

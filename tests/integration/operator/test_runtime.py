"""The operator as a process: its metrics, its JSON logs, its start-up checks,
and the manifests that deploy it, as the API server judges them."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from tests.support.cluster import Cluster, object_path, wait_for
from tests.support.ingest_service_builders import minimal_spec
from tests.support.operator import (
    DEPLOY_DIR,
    OPERATOR_COMMAND,
    REACTION_SECONDS,
    OperatorProcess,
    create_and_roll_out,
    deploy_manifests,
    reconciles_total,
)


def test_the_operator_exports_its_reconcile_metrics(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_and_roll_out(cluster, namespace, "shop", minimal_spec())

    wait_for(lambda: reconciles_total(operator) >= 2, timeout=REACTION_SECONDS, message="counted")
    metrics = operator.metrics()
    assert 'ingest_operator_reconciles_total{result="progressing"}' in metrics
    assert "ingest_operator_reconcile_duration_seconds_count" in metrics
    assert "# TYPE ingest_operator_reconcile_errors_total counter" in metrics
    assert "ingest_operator_queue_depth " in metrics
    assert "ingest_operator_leader 0.0" in metrics  # no election: nothing to lead
    assert 'ingest_operator_build_info{kopf="' in metrics
    # The conditions of each IngestService, as its status shows them.
    progressing = (
        f'ingest_operator_ingestservice_condition{{condition="Progressing",'
        f'name="shop",namespace="{namespace}"}} 1.0'
    )
    assert progressing in metrics
    ready = f'condition="Ready",name="shop",namespace="{namespace}"}} 0.0'
    assert ready in metrics

    cluster.delete("IngestService", namespace, "shop")
    wait_for(
        lambda: f'namespace="{namespace}"' not in operator.metrics(),
        timeout=REACTION_SECONDS,
        message="a deleted IngestService's series go",
    )


def test_the_operator_logs_json_lines(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_and_roll_out(cluster, namespace, "shop", minimal_spec())
    operator.stop()

    records = [json.loads(line) for line in operator.log().splitlines() if line.strip()]

    assert records
    assert all({"message", "severity", "timestamp"} <= record.keys() for record in records)
    reconciled = f"reconciled {namespace}/shop: progressing (RollingOut)"
    assert any(record["message"] == reconciled for record in records)
    # Waiting for a migration is not an error, whatever kopf's own log says.
    assert not [record for record in records if record["severity"] == "error"]


def test_a_bad_setting_stops_the_operator_at_once_with_its_name(kubeconfig: str) -> None:
    env = {**os.environ, "KUBECONFIG": kubeconfig, "METRICS_PORT": "eighty"}

    result = subprocess.run(
        [str(OPERATOR_COMMAND)], env=env, capture_output=True, text=True, timeout=30
    )

    assert result.returncode != 0
    assert "METRICS_PORT: must be a port" in result.stderr


def _namespaced_into(doc: dict[str, Any], namespace: str) -> dict[str, Any]:
    if doc["kind"] not in {"Namespace", "ClusterRole", "ClusterRoleBinding"}:
        doc["metadata"]["namespace"] = namespace
    return doc


@pytest.mark.parametrize("file", sorted(path.name for path in DEPLOY_DIR.glob("*.yaml")))
def test_the_deploy_manifests_are_accepted_by_the_api_server(
    cluster: Cluster, namespace: str, file: str
) -> None:
    for doc in (_namespaced_into(doc, namespace) for doc in deploy_manifests(file)):
        # A server-side dry run: validated and admitted, stored nowhere. Namespaced
        # objects go to this test's namespace, as ingest-system may not exist.
        applied = cluster.request(
            "PATCH",
            object_path(doc["kind"], doc["metadata"].get("namespace"), doc["metadata"]["name"]),
            body=doc,
            query=[("fieldManager", "ingest-tests"), ("dryRun", "All"), ("force", "true")],
            content_type="application/apply-patch+yaml",
        )
        assert applied["kind"] == doc["kind"]

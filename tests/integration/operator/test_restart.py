"""An operator restarted mid-way picks up where the last one stopped: no child twice,
no new JWT key, no rollout, no repeated Events; reconciliation is level-based."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.cluster import Cluster, stays, wait_for
from tests.support.ingest_service_builders import IMAGE, minimal_spec
from tests.support.kubelet import finish_job
from tests.support.operator import (
    REACTION_SECONDS,
    OperatorProcess,
    create_referenced_secrets,
    events_about,
    ingest_service_manifest,
    reconciles_total,
    running_operator,
    start_operator,
    wait_for_condition,
    wait_for_migration_job,
    wait_for_object,
)

NAME = "shop"
SELECTOR = f"app.kubernetes.io/instance={NAME}"
CHILD_KINDS = ("Secret", "ConfigMap", "Service", "Deployment", "Job", "PodDisruptionBudget")


def children(cluster: Cluster, namespace: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (kind, child["metadata"]["name"]): child
        for kind in CHILD_KINDS
        for child in cluster.list(kind, namespace, SELECTOR)
    }


def written_state(cluster: Cluster, namespace: str) -> dict[tuple[str, str], object]:
    """What a write by the operator would change in each child: its spec's generation,
    or its resourceVersion for kinds without one. Controllers' status updates do not count."""
    return {
        key: child["metadata"].get("generation") or child["metadata"]["resourceVersion"]
        for key, child in children(cluster, namespace).items()
    }


def replica_set_names(cluster: Cluster, namespace: str) -> list[str]:
    return sorted(rs["metadata"]["name"] for rs in cluster.list("ReplicaSet", namespace))


def test_a_restart_mid_way_creates_nothing_twice_and_changes_nothing_settled(
    cluster: Cluster,
    namespace: str,
    ingest_crd: None,
    kubeconfig: str,
    operator_log: Path,
) -> None:
    create_referenced_secrets(cluster, namespace)
    first = start_operator(kubeconfig, operator_log, namespaces=[namespace])
    try:
        cluster.create(ingest_service_manifest(namespace, NAME, minimal_spec()))
        job = wait_for_migration_job(cluster, namespace, NAME, IMAGE)
        generated = wait_for_object(cluster, "Secret", namespace, f"{NAME}-generated")
    finally:
        # Mid-way: the migration is still running. No graceful goodbye.
        first.kill()

    with running_operator(kubeconfig, operator_log, namespaces=[namespace]) as second:
        wait_for(lambda: reconciles_total(second) > 0, timeout=REACTION_SECONDS, message="resumed")
        finish_job(cluster, namespace, job["metadata"]["name"], succeeded=True)
        wait_for_object(cluster, "Deployment", namespace, f"{NAME}-worker")
        wait_for_condition(
            cluster, namespace, NAME, "Progressing", status="True", reason="RollingOut"
        )

    found = children(cluster, namespace)
    assert sorted(found) == sorted(
        [
            ("Secret", f"{NAME}-generated"),
            ("ConfigMap", f"{NAME}-config"),
            ("Service", f"{NAME}-api"),
            ("Deployment", f"{NAME}-api"),
            ("Deployment", f"{NAME}-worker"),
            ("Job", job["metadata"]["name"]),
            ("PodDisruptionBudget", f"{NAME}-api"),
            ("PodDisruptionBudget", f"{NAME}-worker"),
        ]
    )
    # Generated once and kept: a new key would log every user out.
    assert found["Secret", f"{NAME}-generated"]["data"] == generated["data"]
    # The same Job object: the migration did not run a second time.
    assert found["Job", job["metadata"]["name"]]["metadata"]["uid"] == job["metadata"]["uid"]
    migrating = [e for e in events_about(cluster, namespace, NAME) if e["reason"] == "Migrating"]
    assert len(migrating) == 1

    settled = written_state(cluster, namespace)

    def one_replica_set_each() -> list[str] | None:
        names = replica_set_names(cluster, namespace)
        return names if len(names) == 2 else None

    # The Deployment controller can lag behind on a loaded machine.
    replica_sets = wait_for(one_replica_set_each, timeout=30, message="a ReplicaSet each")
    with running_operator(kubeconfig, operator_log, namespaces=[namespace]) as third:
        wait_for(lambda: reconciles_total(third) > 0, timeout=REACTION_SECONDS, message="resumed")
        stays(
            lambda: written_state(cluster, namespace) == settled,
            duration=2,
            message="a restart changed a settled child",
        )
    # No rollout either: each Deployment still has its one ReplicaSet.
    assert replica_set_names(cluster, namespace) == replica_sets


def test_a_restarted_operator_reconciles_what_changed_while_it_was_down(
    cluster: Cluster, namespace: str, operator: OperatorProcess, kubeconfig: str, operator_log: Path
) -> None:
    create_referenced_secrets(cluster, namespace)
    cluster.create(ingest_service_manifest(namespace, NAME, minimal_spec()))
    job = wait_for_migration_job(cluster, namespace, NAME, IMAGE)
    operator.stop()

    # While no operator runs: the migration ends and the spec changes.
    finish_job(cluster, namespace, job["metadata"]["name"], succeeded=True)
    cluster.patch("IngestService", namespace, NAME, {"spec": {"replicas": {"worker": 3}}})

    with running_operator(kubeconfig, operator_log, namespaces=[namespace]):
        wait_for(
            lambda: (
                (cluster.get("Deployment", namespace, f"{NAME}-worker") or {})
                .get("spec", {})
                .get("replicas")
                == 3
            ),
            timeout=REACTION_SECONDS,
            message="the worker Deployment is created with the spec changed meanwhile",
        )

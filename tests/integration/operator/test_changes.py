"""The operator keeps the children in line: spec changes, hand edits, deletions,
rotated Secrets, restart and pause annotations, and deletion of the resource."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from tests.support.cluster import Cluster, stays, wait_for
from tests.support.ingest_service_builders import (
    DB_SECRET,
    REDIS_SECRET,
    S3_SECRET,
    minimal_spec,
)
from tests.support.operator import (
    REACTION_SECONDS,
    OperatorProcess,
    condition,
    create_and_roll_out,
    migration_jobs,
    pod_template_annotations,
    running_operator,
    triggers,
    wait_for_condition,
)

NAME = "shop"
API = f"{NAME}-api"
WORKER = f"{NAME}-worker"
CHECKSUM = "ingest.example.com/checksum"
RESTARTED_AT = "ingest.example.com/restartedAt"
PAUSED = "ingest.example.com/paused"
# A field manager of the test's own, as `kubectl edit` would use one.
HAND_EDIT = "kubectl-edit"


def config_value(cluster: Cluster, namespace: str, key: str) -> str | None:
    found = cluster.get("ConfigMap", namespace, f"{NAME}-config")
    return None if found is None else str(found["data"][key])


def replicas(cluster: Cluster, namespace: str, deployment: str) -> int | None:
    found = cluster.get("Deployment", namespace, deployment)
    return None if found is None else int(found["spec"]["replicas"])


def checksum(cluster: Cluster, namespace: str, deployment: str) -> str:
    return pod_template_annotations(cluster, namespace, deployment)[CHECKSUM]


def test_a_spec_change_is_followed_by_the_children(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_and_roll_out(cluster, namespace, NAME, minimal_spec())
    before = checksum(cluster, namespace, API)

    cluster.patch(
        "IngestService",
        namespace,
        NAME,
        {
            "spec": {
                "replicas": {"api": 1},
                "logLevel": "debug",
                "cors": {"origins": ["https://app.example.com"]},
            }
        },
    )

    wait_for(
        lambda: replicas(cluster, namespace, API) == 1,
        timeout=REACTION_SECONDS,
        message="the API Deployment has 1 replica",
    )
    wait_for(
        lambda: config_value(cluster, namespace, "LOG_LEVEL") == "debug",
        timeout=REACTION_SECONDS,
        message="the ConfigMap has the new log level",
    )
    assert config_value(cluster, namespace, "CORS_ORIGINS") == '["https://app.example.com"]'
    # One API replica cannot keep a PodDisruptionBudget: it is pruned; the worker's stays.
    wait_for(
        lambda: cluster.get("PodDisruptionBudget", namespace, API) is None,
        timeout=REACTION_SECONDS,
        message="the API's PodDisruptionBudget is pruned",
    )
    assert cluster.get("PodDisruptionBudget", namespace, WORKER) is not None
    # The configuration is part of the checksum: the pods roll.
    assert checksum(cluster, namespace, API) != before

    # The status is written after the children, in the same reconciliation.
    def status_of_generation_2() -> dict[str, Any] | None:
        found = cluster.must_get("IngestService", namespace, NAME)
        return found if (found.get("status") or {}).get("observedGeneration") == 2 else None

    resource = wait_for(
        status_of_generation_2,
        timeout=REACTION_SECONDS,
        message="the status describes generation 2",
    )
    assert condition(resource, "Progressing")["status"] == "True"
    assert condition(resource, "Ready")["observedGeneration"] == 2


def test_a_child_edited_by_hand_is_restored(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_and_roll_out(cluster, namespace, NAME, minimal_spec())

    cluster.patch(
        "ConfigMap",
        namespace,
        f"{NAME}-config",
        {"data": {"LOG_LEVEL": "error"}},
        field_manager=HAND_EDIT,
    )
    cluster.patch(
        "Deployment", namespace, WORKER, {"spec": {"replicas": 7}}, field_manager=HAND_EDIT
    )

    wait_for(
        lambda: config_value(cluster, namespace, "LOG_LEVEL") == "info",
        timeout=REACTION_SECONDS,
        message="the ConfigMap's LOG_LEVEL is restored",
    )
    wait_for(
        lambda: replicas(cluster, namespace, WORKER) == 2,
        timeout=REACTION_SECONDS,
        message="the worker Deployment's replicas are restored",
    )


def test_a_deleted_child_is_restored(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_and_roll_out(cluster, namespace, NAME, minimal_spec())
    old_uids = {
        kind: cluster.must_get(kind, namespace, API)["metadata"]["uid"]
        for kind in ("Service", "Deployment")
    }

    for kind in old_uids:
        cluster.delete(kind, namespace, API)

    def recreated() -> bool:
        found = {kind: cluster.get(kind, namespace, API) for kind in old_uids}
        return all(
            child is not None and child["metadata"]["uid"] != old_uids[kind]
            for kind, child in found.items()
        )

    wait_for(
        recreated, timeout=REACTION_SECONDS, message="the API's Service and Deployment are back"
    )


def test_rotating_a_referenced_secret_rolls_the_pods(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    resource = create_and_roll_out(cluster, namespace, NAME, minimal_spec())
    before = resource["status"]["secretsHash"]
    assert checksum(cluster, namespace, WORKER) == before
    (job,) = migration_jobs(cluster, namespace, NAME)

    # A key no pod reads changes nothing.
    unused = base64.b64encode(b"not-read-by-any-pod").decode()
    cluster.patch("Secret", namespace, S3_SECRET, {"data": {"unused": unused}})
    stays(
        lambda: checksum(cluster, namespace, WORKER) == before,
        duration=2,
        message="an unrelated key rolled the pods",
    )

    # Not the database's Secret: a new database URL migrates first (test_migration.py).
    rotated = base64.b64encode(b"redis://:rotated-9d1c@redis.internal:6379/0").decode()
    cluster.patch("Secret", namespace, REDIS_SECRET, {"data": {"url": rotated}})

    wait_for(
        lambda: checksum(cluster, namespace, WORKER) != before,
        timeout=REACTION_SECONDS,
        message="the worker's checksum changes",
    )
    # The database is the same: the rotation runs no migration.
    assert [j["metadata"]["uid"] for j in migration_jobs(cluster, namespace, NAME)] == [
        job["metadata"]["uid"]
    ]
    after = checksum(cluster, namespace, WORKER)
    assert checksum(cluster, namespace, API) == after
    wait_for(
        lambda: (
            cluster.must_get("IngestService", namespace, NAME)["status"]["secretsHash"] == after
        ),
        timeout=REACTION_SECONDS,
        message="status.secretsHash shows the new checksum",
    )


def test_a_secret_without_the_reload_label_is_not_watched_and_rotates_at_the_resync(
    cluster: Cluster, namespace: str, operator_log: Path, kubeconfig: str
) -> None:
    with running_operator(
        kubeconfig, operator_log, namespaces=[namespace], env={"RESYNC_SECONDS": "8"}
    ) as operator:
        create_and_roll_out(cluster, namespace, NAME, minimal_spec(), reload=False)
        before = checksum(cluster, namespace, WORKER)
        secret_events = triggers(operator, "secret")
        rotated = base64.b64encode(b"redis://:rotated-5e2a@redis.internal:6379/0").decode()

        cluster.patch("Secret", namespace, REDIS_SECRET, {"data": {"url": rotated}})

        # The API server never streams it to the operator: no watch event asks.
        stays(
            lambda: triggers(operator, "secret") == secret_events,
            duration=3,
            message="an unlabelled Secret reached the operator's watch",
        )
        wait_for(
            lambda: checksum(cluster, namespace, WORKER) != before,
            timeout=8 + REACTION_SECONDS,
            message="the resync reads the rotated Secret and rolls the pods",
        )


def test_the_restart_annotation_rolls_the_pods(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_and_roll_out(cluster, namespace, NAME, minimal_spec())
    requested = "2026-11-28T10:00:00Z"

    cluster.patch(
        "IngestService", namespace, NAME, {"metadata": {"annotations": {RESTARTED_AT: requested}}}
    )

    def restart_requests() -> set[str | None]:
        return {
            pod_template_annotations(cluster, namespace, deployment).get(RESTARTED_AT)
            for deployment in (API, WORKER)
        }

    wait_for(
        lambda: restart_requests() == {requested},
        timeout=REACTION_SECONDS,
        message="both pod templates carry the restart request",
    )


def test_the_pause_annotation_stops_reconciling_until_removed(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_and_roll_out(cluster, namespace, NAME, minimal_spec())

    cluster.patch("IngestService", namespace, NAME, {"metadata": {"annotations": {PAUSED: "true"}}})
    wait_for_condition(
        cluster, namespace, NAME, "Paused", status="True", reason="ReconciliationPaused"
    )
    cluster.delete("ConfigMap", namespace, f"{NAME}-config")
    cluster.patch("IngestService", namespace, NAME, {"spec": {"replicas": {"worker": 3}}})
    stays(
        lambda: (
            config_value(cluster, namespace, "LOG_LEVEL") is None
            and replicas(cluster, namespace, WORKER) == 2
        ),
        duration=3,
        message="a paused resource was reconciled",
    )

    cluster.patch("IngestService", namespace, NAME, {"metadata": {"annotations": {PAUSED: None}}})

    wait_for(
        lambda: config_value(cluster, namespace, "LOG_LEVEL") == "info",
        timeout=REACTION_SECONDS,
        message="the ConfigMap is restored once resumed",
    )
    wait_for(
        lambda: replicas(cluster, namespace, WORKER) == 3,
        timeout=REACTION_SECONDS,
        message="the spec change made while paused is applied once resumed",
    )
    assert condition(cluster.get("IngestService", namespace, NAME), "Paused") == {}


def test_deleting_the_resource_lets_the_garbage_collector_remove_the_children(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_and_roll_out(cluster, namespace, NAME, minimal_spec())
    selector = f"app.kubernetes.io/instance={NAME}"
    kinds = (
        "Secret", "ConfigMap", "Service", "Deployment", "Job", "CronJob", "PodDisruptionBudget"
    )  # fmt: skip
    assert all(cluster.list(kind, namespace, selector) for kind in kinds)

    cluster.delete("IngestService", namespace, NAME)

    wait_for(
        lambda: not any(cluster.list(kind, namespace, selector) for kind in kinds),
        timeout=60,
        message="the garbage collector removes every child",
    )
    # The referenced Secrets belong to the user, not to the resource.
    assert cluster.get("Secret", namespace, DB_SECRET) is not None

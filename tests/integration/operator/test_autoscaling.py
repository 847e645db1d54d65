"""spec.autoscaling against the real control plane: the HPAs are stored and obeyed by
kube-controller-manager's HPA controller without the operator fighting it; replicas pass
from the operator to the autoscaler without a dip; with KEDA's CRDs (from its Go module)
the workers get a ScaledObject that KEDA's own schema accepts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import external_crds
from tests.support.cluster import Cluster, stays, wait_for
from tests.support.ingest_service_builders import minimal_spec
from tests.support.operator import (
    REACTION_SECONDS,
    OperatorProcess,
    create_and_roll_out,
    wait_for_object,
)

NAME = "shop"
API = f"{NAME}-api"
WORKER = f"{NAME}-worker"
# kube-controller-manager's HPA controller looks every 15 s.
HPA_SYNC_SECONDS = 15.0
HANDOVER_MANAGER = "ingest-operator-handover"


def replicas(cluster: Cluster, deployment: str, namespace: str) -> int:
    return int(cluster.must_get("Deployment", namespace, deployment)["spec"]["replicas"])


def replicas_managers(cluster: Cluster, namespace: str, deployment: str) -> set[str]:
    found = cluster.must_get("Deployment", namespace, deployment)
    return {
        entry["manager"]
        for entry in found["metadata"].get("managedFields") or []
        if "f:replicas" in ((entry.get("fieldsV1") or {}).get("f:spec") or {})
    }


def autoscaled_spec(**autoscaling: Any) -> dict[str, Any]:
    spec = minimal_spec()
    spec["autoscaling"] = autoscaling
    return spec


def test_the_hpa_scales_the_api_and_the_operator_does_not_fight_it(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    spec = autoscaled_spec(api={"enabled": True, "minReplicas": 3, "maxReplicas": 5})
    create_and_roll_out(cluster, namespace, NAME, spec)
    hpa = wait_for_object(cluster, "HorizontalPodAutoscaler", namespace, API)
    assert hpa["spec"]["minReplicas"] == 3

    # The HPA controller raises the Deployment to its minimum (no metrics needed for that).
    wait_for(
        lambda: replicas(cluster, API, namespace) == 3,
        timeout=2 * HPA_SYNC_SECONDS + REACTION_SECONDS,
        message="kube-controller-manager's HPA controller scales the API to 3",
    )
    # A change that reconciles (and rolls the pods) leaves the replicas to the HPA.
    cluster.patch("IngestService", namespace, NAME, {"spec": {"logLevel": "debug"}})
    wait_for(
        lambda: (
            cluster.must_get("ConfigMap", namespace, f"{NAME}-config")["data"]["LOG_LEVEL"]
            == "debug"
        ),
        timeout=REACTION_SECONDS,
        message="the change is applied",
    )
    stays(lambda: replicas(cluster, API, namespace) == 3, duration=3, message="replicas fought")
    assert "ingest-operator" not in replicas_managers(cluster, namespace, API)


def test_turning_autoscaling_on_hands_the_replicas_over_without_a_dip(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    spec = minimal_spec()
    spec["replicas"] = {"api": 4, "worker": 2}
    create_and_roll_out(cluster, namespace, NAME, spec)
    assert replicas(cluster, API, namespace) == 4

    cluster.patch(
        "IngestService",
        namespace,
        NAME,
        {"spec": {"autoscaling": {"api": {"enabled": True, "minReplicas": 2, "maxReplicas": 8}}}},
    )

    wait_for_object(cluster, "HorizontalPodAutoscaler", namespace, API)
    wait_for(
        lambda: replicas_managers(cluster, namespace, API) == {HANDOVER_MANAGER},
        timeout=REACTION_SECONDS,
        message="the operator no longer owns the replicas",
    )
    stays(lambda: replicas(cluster, API, namespace) == 4, duration=3, message="replicas dipped")

    # Turned off again: the operator applies spec.replicas, and the HPA goes.
    cluster.patch(
        "IngestService", namespace, NAME, {"spec": {"autoscaling": {"api": {"enabled": False}}}}
    )
    wait_for(
        lambda: cluster.get("HorizontalPodAutoscaler", namespace, API) is None,
        timeout=REACTION_SECONDS,
        message="the HPA is pruned",
    )
    assert "ingest-operator" in replicas_managers(cluster, namespace, API)


@pytest.fixture
def keda_crds(cluster: Cluster) -> Iterator[None]:
    """KEDA's CRDs installed for one test, removed after it (other tests run without KEDA)."""
    with external_crds.installed(cluster, external_crds.keda_crds()):
        yield


def test_with_keda_the_workers_get_a_scaled_object_that_kedas_schema_accepts(
    keda_crds: None, cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    spec = autoscaled_spec(worker={"enabled": True, "maxReplicas": 20, "jobsPerReplica": 10})
    create_and_roll_out(cluster, namespace, NAME, spec)

    scaled = wait_for_object(cluster, "ScaledObject", namespace, WORKER)

    assert scaled["spec"]["scaleTargetRef"]["name"] == WORKER
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis-streams"
    assert trigger["metadata"]["lagCount"] == "10"
    assert trigger["authenticationRef"]["name"] == WORKER
    authentication = cluster.must_get("TriggerAuthentication", namespace, WORKER)
    secret_names = {ref["name"] for ref in authentication["spec"]["secretTargetRef"]}
    assert secret_names == {f"{NAME}-keda"}
    assert cluster.get("Secret", namespace, f"{NAME}-keda") is not None
    assert cluster.get("HorizontalPodAutoscaler", namespace, WORKER) is None

    cluster.patch(
        "IngestService", namespace, NAME, {"spec": {"autoscaling": {"worker": {"enabled": False}}}}
    )
    for kind, name in (
        ("ScaledObject", WORKER),
        ("TriggerAuthentication", WORKER),
        ("Secret", f"{NAME}-keda"),
    ):
        wait_for(
            lambda kind=kind, name=name: cluster.get(kind, namespace, name) is None,
            timeout=REACTION_SECONDS,
            message=f"{kind} {name} is pruned",
        )

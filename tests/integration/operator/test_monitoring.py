"""spec.monitoring against the real control plane: with prometheus-operator's
PodMonitor CRD (from its Go module) the operator writes a PodMonitor its schema
accepts, and prunes it when monitoring is turned off; without the CRD the
service runs all the same and one Warning Event says why there is no monitor."""

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
    events_about,
    wait_for_object,
)

NAME = "watched"


def monitored_spec(**monitoring: Any) -> dict[str, Any]:
    spec = minimal_spec()
    spec["monitoring"] = {"enabled": True, **monitoring}
    return spec


@pytest.fixture
def pod_monitor_crd(cluster: Cluster) -> Iterator[None]:
    """The PodMonitor CRD for one test, removed after it (other tests run without it)."""
    with external_crds.installed(cluster, [external_crds.prometheus_operator_crd("podmonitors")]):
        yield


def test_with_the_crd_a_pod_monitor_is_written_and_pruned_when_turned_off(
    pod_monitor_crd: None, cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    spec = monitored_spec(interval="20s", labels={"release": "prometheus"})
    create_and_roll_out(cluster, namespace, NAME, spec)

    monitor = wait_for_object(cluster, "PodMonitor", namespace, NAME)

    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["interval"]) == ("metrics", "20s")
    selected = cluster.list(
        "Deployment", namespace, label_selector=f"app.kubernetes.io/instance={NAME}"
    )
    selector = monitor["spec"]["selector"]
    components = {
        d["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
        for d in selected
        if selector["matchLabels"].items() <= d["spec"]["template"]["metadata"]["labels"].items()
    }
    assert components == {"api", "worker"}

    cluster.patch("IngestService", namespace, NAME, {"spec": {"monitoring": {"enabled": False}}})
    wait_for(
        lambda: cluster.get("PodMonitor", namespace, NAME) is None,
        timeout=REACTION_SECONDS,
        message="the PodMonitor is pruned",
    )


def test_without_the_crd_the_service_runs_and_one_event_says_why(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_and_roll_out(cluster, namespace, NAME, monitored_spec())

    def unavailable() -> list[dict[str, Any]]:
        events = events_about(cluster, namespace, NAME)
        return [e for e in events if e["reason"] == "MonitoringUnavailable"]

    (event,) = wait_for(unavailable, timeout=REACTION_SECONDS, message="the Warning Event")
    assert event["type"] == "Warning"
    assert "PodMonitor" in event["message"]
    # Later reconciliations do not say it again.
    cluster.patch("IngestService", namespace, NAME, {"spec": {"logLevel": "debug"}})
    stays(
        lambda: [e.get("count", 1) for e in unavailable()] == [1],
        duration=3,
        message="the Event was posted again",
    )

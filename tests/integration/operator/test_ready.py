"""Deployments whose pods are available make the IngestService Ready.

No kubelet runs here, and the real Deployment controller recomputes a
Deployment's status from its pods, so writing that status would not stick.
The test plays the kubelet instead (tests/support/kubelet.py): it binds the
pods to a fake Node and reports them Running and Ready through their status
subresource; the ReplicaSet and Deployment controllers do the rest.
"""

from __future__ import annotations

import subprocess

from tests.conftest import unique_name
from tests.support.cluster import Cluster, wait_for
from tests.support.ingest_service_builders import minimal_spec
from tests.support.kubelet import fake_node, run_deployment_pods
from tests.support.local_stack import Component
from tests.support.operator import (
    REACTION_SECONDS,
    OperatorProcess,
    condition,
    create_and_roll_out,
    events_about,
    wait_for_condition,
)

NAME = "shop"


def test_available_deployments_make_the_resource_ready(
    cluster: Cluster, namespace: str, operator: OperatorProcess, kube_service: Component
) -> None:
    create_and_roll_out(cluster, namespace, NAME, minimal_spec())

    with fake_node(cluster, unique_name("node")) as node:
        run_deployment_pods(cluster, namespace, f"{NAME}-api", node)
        run_deployment_pods(cluster, namespace, f"{NAME}-worker", node)

        resource = wait_for_condition(
            cluster, namespace, NAME, "Ready", status="True", reason="Available"
        )
        # What users script against works as they expect.
        subprocess.run(
            [
                kube_service.settings["KUBECTL"],
                "--kubeconfig",
                kube_service.settings["KUBECONFIG"],
                "wait",
                "--for=condition=Ready",
                f"ingestservice/{NAME}",
                "-n",
                namespace,
                "--timeout=10s",
            ],
            check=True,
            capture_output=True,
        )

    assert condition(resource, "Progressing")["status"] == "False"
    assert condition(resource, "Degraded")["status"] == "False"
    replicas = resource["status"]["replicas"]
    assert replicas["api"] == {"desired": 2, "ready": 2}
    assert replicas["worker"] == {"desired": 2, "ready": 2}
    assert replicas["summary"] == "api 2/2, worker 2/2"
    wait_for(
        lambda: any(
            event["type"] == "Normal" and event["reason"] == "Available"
            for event in events_about(cluster, namespace, NAME)
        ),
        timeout=REACTION_SECONDS,
        message="a Normal Event Available",
    )

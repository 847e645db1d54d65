"""A new IngestService becomes every child render.py promises, as stored by the real API server."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.support.cluster import Cluster
from tests.support.ingest_service_builders import (
    ADMIN_SECRET,
    DB_SECRET,
    IMAGE,
    REDIS_SECRET,
    S3_SECRET,
    SECRET_VALUES,
    minimal_spec,
)
from tests.support.kubelet import finish_job
from tests.support.operator import (
    OperatorProcess,
    condition,
    create_referenced_secrets,
    events_about,
    ingest_service_manifest,
    wait_for_condition,
    wait_for_migration_job,
    wait_for_object,
)

NAME = "shop"
INSTANCE = f"app.kubernetes.io/instance={NAME}"
CHILD_KINDS = (
    "Secret", "ConfigMap", "Service", "Deployment", "Job", "CronJob", "PodDisruptionBudget"
)  # fmt: skip


def spec_with_generated_jwt_and_admin() -> dict[str, Any]:
    spec = minimal_spec()
    spec["auth"] = {"bootstrapAdminSecretRef": {"name": ADMIN_SECRET}}
    return spec


def owned_children(cluster: Cluster, namespace: str) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (kind, child["metadata"]["name"]): child
        for kind in CHILD_KINDS
        for child in cluster.list(kind, namespace, INSTANCE)
    }


def env_of(deployment: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {entry["name"]: entry for entry in container["env"]}


def test_a_new_resource_gets_every_child_with_the_expected_content(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_referenced_secrets(cluster, namespace)
    cluster.create(ingest_service_manifest(namespace, NAME, spec_with_generated_jwt_and_admin()))

    job = wait_for_migration_job(cluster, namespace, NAME, IMAGE)
    # The Deployments wait for the schema migration of their image.
    assert cluster.get("Deployment", namespace, f"{NAME}-api") is None
    # No kubelet runs the Job's pod: the test reports it complete, as its pod would.
    finish_job(cluster, namespace, job["metadata"]["name"], succeeded=True)
    wait_for_object(cluster, "Deployment", namespace, f"{NAME}-worker")
    resource = wait_for_condition(
        cluster, namespace, NAME, "Progressing", status="True", reason="RollingOut"
    )
    # The status is written under the operator's own field manager.
    status_managers = {
        entry["manager"]
        for entry in resource["metadata"]["managedFields"]
        if entry.get("subresource") == "status"
    }
    assert status_managers == {"ingest-operator"}

    children = owned_children(cluster, namespace)
    assert set(children) == {
        ("Secret", f"{NAME}-generated"),
        ("ConfigMap", f"{NAME}-config"),
        ("Service", f"{NAME}-api"),
        ("Deployment", f"{NAME}-api"),
        ("Deployment", f"{NAME}-worker"),
        ("Job", job["metadata"]["name"]),
        ("CronJob", f"{NAME}-purge"),
        ("PodDisruptionBudget", f"{NAME}-api"),
        ("PodDisruptionBudget", f"{NAME}-worker"),
    }
    uid = resource["metadata"]["uid"]
    for (kind, name), child in children.items():
        assert child["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "ingest.example.com/v1alpha1",
                "kind": "IngestService",
                "name": NAME,
                "uid": uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ], (kind, name)
        labels = child["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "ingest-operator", (kind, name)
        assert labels["app.kubernetes.io/part-of"] == "ingest-service", (kind, name)
        assert labels["app.kubernetes.io/version"] == "1.4.2", (kind, name)
        managers = {entry["manager"] for entry in child["metadata"]["managedFields"]}
        assert "ingest-operator" in managers, (kind, name)

    config = children["ConfigMap", f"{NAME}-config"]["data"]
    assert config["ENVIRONMENT"] == "development"
    assert config["RETAIN_FINISHED_JOBS_DAYS"] == "90"
    purge = children["CronJob", f"{NAME}-purge"]["spec"]
    assert purge["schedule"] == "17 3 * * *"
    (purge_container,) = purge["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert (purge_container["command"], purge_container["args"]) == (["ingest-admin"], ["purge"])
    assert config["S3_BUCKET"] == "ingest-logs"
    assert json.loads(config["CORS_ORIGINS"]) == []

    generated = children["Secret", f"{NAME}-generated"]["data"]
    assert len(base64.b64decode(generated["jwtSecretKey"])) >= 48

    service = children["Service", f"{NAME}-api"]["spec"]
    assert service["ports"][0]["port"] == 80
    assert service["ports"][0]["targetPort"] == "http"
    assert service["selector"]["app.kubernetes.io/component"] == "api"

    api = children["Deployment", f"{NAME}-api"]
    api_env = env_of(api)
    assert api_env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": DB_SECRET, "key": "url"}
    assert api_env["REDIS_URL"]["valueFrom"]["secretKeyRef"] == {"name": REDIS_SECRET, "key": "url"}
    assert api_env["S3_SECRET_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": S3_SECRET,
        "key": "secretKey",
    }
    assert api_env["JWT_SECRET_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": f"{NAME}-generated",
        "key": "jwtSecretKey",
    }
    assert api_env["BOOTSTRAP_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == ADMIN_SECRET
    assert "BOOTSTRAP_ADMIN_PASSWORD" not in env_of(children["Deployment", f"{NAME}-worker"])
    (container,) = api["spec"]["template"]["spec"]["containers"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    checksum = api["spec"]["template"]["metadata"]["annotations"]["ingest.example.com/checksum"]
    assert checksum == resource["status"]["secretsHash"]

    # Credentials reach the pods through secretKeyRef only, never as values.
    stored = json.dumps([child for (kind, _), child in children.items() if kind != "Secret"])
    leaked = [value for value in SECRET_VALUES if value in stored]
    assert leaked == []

    status = resource["status"]
    assert status["observedGeneration"] == resource["metadata"]["generation"]
    assert status["endpoint"] == f"{NAME}-api.{namespace}.svc:80"
    assert status["replicas"]["summary"] == "api 0/2, worker 0/2"
    assert condition(resource, "PolicyCompliant")["status"] == "True"
    assert condition(resource, "Degraded")["status"] == "False"
    assert condition(resource, "Ready")["status"] == "False"
    reasons = {(event["type"], event["reason"]) for event in events_about(cluster, namespace, NAME)}
    assert {("Normal", "Migrating"), ("Normal", "RollingOut")} <= reasons


def test_an_object_already_in_a_childs_place_is_reported_not_adopted(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    # Made by hand before the IngestService: applying over it would adopt it,
    # and deleting the IngestService would then delete it, `keep` included.
    hand_made = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"{NAME}-config", "namespace": namespace},
        "data": {"keep": "me"},
    }
    cluster.create(hand_made)
    create_referenced_secrets(cluster, namespace)
    cluster.create(ingest_service_manifest(namespace, NAME, minimal_spec()))

    held = wait_for_condition(
        cluster, namespace, NAME, "Ready", status="False", reason="ChildNotOwned"
    )

    assert f"ConfigMap {NAME}-config" in condition(held, "Ready")["message"]
    assert condition(held, "Degraded")["status"] == "True"
    config_map = cluster.must_get("ConfigMap", namespace, f"{NAME}-config")
    assert config_map["data"] == {"keep": "me"}
    assert "ownerReferences" not in config_map["metadata"]
    assert cluster.list("Deployment", namespace, INSTANCE) == []

    # Out of the way, the operator creates its own (the requeue's first back-off is 5 s).
    cluster.delete("ConfigMap", namespace, f"{NAME}-config")
    wait_for_condition(
        cluster, namespace, NAME, "Progressing", status="True", reason="Migrating", timeout=30
    )
    assert "keep" not in cluster.must_get("ConfigMap", namespace, f"{NAME}-config")["data"]


def test_spec_pod_reaches_the_stored_deployments_and_jobs(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    spec = minimal_spec()
    spec["pod"] = {
        "nodeSelector": {"pool": "ingest"},
        "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 50,
                        "podAffinityTerm": {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": {"team": "noisy"}},
                        },
                    }
                ]
            }
        },
        "imagePullSecrets": [{"name": "registry-creds"}],
        "labels": {"team": "payments"},
    }
    create_referenced_secrets(cluster, namespace)
    cluster.create(ingest_service_manifest(namespace, NAME, spec))
    job = wait_for_migration_job(cluster, namespace, NAME, IMAGE)
    finish_job(cluster, namespace, job["metadata"]["name"], succeeded=True)

    deployment = wait_for_object(cluster, "Deployment", namespace, f"{NAME}-api")

    # As the API server stored (and defaulted) them.
    for pod in (deployment["spec"]["template"]["spec"], job["spec"]["template"]["spec"]):
        assert pod["nodeSelector"] == {"pool": "ingest"}
        assert pod["tolerations"] == spec["pod"]["tolerations"]
        assert pod["affinity"] == spec["pod"]["affinity"]
        assert pod["imagePullSecrets"] == [{"name": "registry-creds"}]
    template = deployment["spec"]["template"]
    assert template["metadata"]["labels"]["team"] == "payments"
    zones = [c["topologyKey"] for c in template["spec"]["topologySpreadConstraints"]]
    assert zones == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]

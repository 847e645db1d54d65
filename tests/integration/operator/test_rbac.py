"""The RBAC in operator/deploy/ is enough, and no more than needed: the operator runs
as an unprivileged user bound only to that ClusterRole (cluster-wide through a
ClusterRoleBinding, or one namespace through a RoleBinding) and does its whole job.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import unique_name
from tests.support.cluster import Cluster, wait_for
from tests.support.ingest_service_builders import DB_SECRET, minimal_spec
from tests.support.kubelet import finish_job
from tests.support.operator import (
    REACTION_SECONDS,
    OperatorProcess,
    create_and_roll_out,
    deploy_manifests,
    events_about,
    migration_jobs,
    pod_template_annotations,
    running_operator,
    wait_for_migration_job,
)
from tests.support.rbac import can_i, make_user_kubeconfig, user_cluster

USER = "ingest-operator-test"
NAME = "shop"
CHECKSUM = "ingest.example.com/checksum"


def manifest(kind: str) -> dict[str, Any]:
    (found,) = [doc for doc in deploy_manifests("rbac.yaml") if doc["kind"] == kind]
    return found


@pytest.fixture(scope="module")
def user_kubeconfig(kubeconfig: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_user_kubeconfig(kubeconfig, USER, tmp_path_factory.mktemp("rbac"))


@pytest.fixture
def cluster_role(cluster: Cluster) -> Iterator[str]:
    """The ClusterRole of rbac.yaml, rules untouched, under a name of this test's."""
    role = manifest("ClusterRole")
    role["metadata"]["name"] = unique_name("ingest-operator")
    cluster.apply(role)
    yield role["metadata"]["name"]
    cluster.delete("ClusterRole", None, role["metadata"]["name"])


def binding(kind: str, name: str, role: str, namespace: str | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": kind,
        "metadata": metadata,
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": USER}],
    }


def exercise_the_operator(cluster: Cluster, namespace: str, operator: OperatorProcess) -> None:
    """Every kind of request the operator makes: apply, create, prune, status, Events, watches."""
    spec = minimal_spec()
    create_and_roll_out(cluster, namespace, NAME, spec)
    before = pod_template_annotations(cluster, namespace, f"{NAME}-api")[CHECKSUM]
    (first_job,) = migration_jobs(cluster, namespace, NAME)

    # A new database URL: a second migration Job, the first one pruned.
    rotated = base64.b64encode(b"postgresql://ingest:rbac-rotated@db/ingest").decode()
    cluster.patch("Secret", namespace, DB_SECRET, {"data": {"url": rotated}})
    cluster.patch("IngestService", namespace, NAME, {"spec": {"replicas": {"api": 1}}})
    job = wait_for_migration_job(
        cluster, namespace, NAME, spec["image"], other_than=first_job["metadata"]["name"]
    )
    finish_job(cluster, namespace, job["metadata"]["name"], succeeded=True)

    wait_for(
        lambda: pod_template_annotations(cluster, namespace, f"{NAME}-api")[CHECKSUM] != before,
        timeout=REACTION_SECONDS,
        message="the rotated Secret is noticed (secrets watched and read)",
    )
    wait_for(
        lambda: cluster.get("PodDisruptionBudget", namespace, f"{NAME}-api") is None,
        timeout=REACTION_SECONDS,
        message="the API's PodDisruptionBudget is pruned (delete allowed)",
    )
    wait_for(
        lambda: cluster.get("Job", namespace, first_job["metadata"]["name"]) is None,
        timeout=REACTION_SECONDS,
        message="the first migration Job is pruned (delete allowed)",
    )
    assert {event["reason"] for event in events_about(cluster, namespace, NAME)} >= {
        "Migrating",
        "RollingOut",
    }
    # What the authorizer says when RBAC lacks a verb (the operator may also
    # meet other tests' namespaces being deleted, a 403 of another kind).
    denied = [message for message in operator.log_messages() if f'User "{USER}" cannot' in message]
    assert denied == []


@pytest.mark.usefixtures("ingest_crd")
def test_the_cluster_role_is_all_the_operator_needs_cluster_wide(
    cluster: Cluster,
    namespace: str,
    cluster_role: str,
    user_kubeconfig: Path,
    operator_log: Path,
) -> None:
    name = unique_name("ingest-operator-test")
    cluster.apply(binding("ClusterRoleBinding", name, cluster_role))
    try:
        as_user = user_cluster(user_kubeconfig)
        # Granted exactly what it needs, and nothing it does not.
        assert can_i(as_user, "patch", "deployments", namespace, group="apps")
        assert can_i(as_user, "watch", "secrets", namespace)
        assert not can_i(as_user, "delete", "deployments", namespace, group="apps")
        assert not can_i(as_user, "list", "pods", namespace)
        assert not can_i(as_user, "update", "ingestservices", namespace, group="ingest.example.com")
        assert not can_i(as_user, "create", "namespaces", "")

        with running_operator(str(user_kubeconfig), operator_log) as operator:
            exercise_the_operator(cluster, namespace, operator)
    finally:
        cluster.delete("ClusterRoleBinding", None, name)


@pytest.mark.usefixtures("ingest_crd")
def test_a_role_binding_per_namespace_and_the_lease_role_are_all_a_namespaced_operator_needs(
    cluster: Cluster,
    namespace: str,
    cluster_role: str,
    user_kubeconfig: Path,
    operator_log: Path,
) -> None:
    cluster.apply(binding("RoleBinding", "ingest-operator", cluster_role, namespace))
    # And the Lease's Role of rbac.yaml, here in the operator's namespace.
    lease_role = manifest("Role")
    lease_role["metadata"]["namespace"] = namespace
    cluster.apply(lease_role)
    lease_binding = binding(
        "RoleBinding", "leader-election", lease_role["metadata"]["name"], namespace
    )
    lease_binding["roleRef"]["kind"] = "Role"
    cluster.apply(lease_binding)
    as_user = user_cluster(user_kubeconfig)
    assert can_i(as_user, "watch", "secrets", namespace)
    assert not can_i(as_user, "watch", "secrets", "default")
    assert can_i(as_user, "update", "leases", namespace, group="coordination.k8s.io")
    assert not can_i(as_user, "delete", "leases", namespace, group="coordination.k8s.io")

    election = {"LEADER_ELECTION": "true", "POD_NAMESPACE": namespace}
    with running_operator(
        str(user_kubeconfig), operator_log, namespaces=[namespace], env=election
    ) as operator:
        exercise_the_operator(cluster, namespace, operator)
        lease = cluster.must_get("Lease", namespace, "ingest-operator")
        assert lease["spec"]["holderIdentity"]

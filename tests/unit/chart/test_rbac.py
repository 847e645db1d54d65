"""The chart grants the operator exactly the rules of operator/deploy/rbac.yaml, bound
cluster-wide by default or in the watched namespaces only.

tests/integration/operator/test_rbac.py proves those rules sufficient by
running the operator bound to them alone; here they are checked to be the
chart's, so the two never drift apart.
"""

from __future__ import annotations

import pytest

from tests.support.chart import Helm, HelmError, Manifest, of_kind, one
from tests.support.operator import deploy_manifests

NAMESPACE = "ingest-system"


def deploy_manifest(file: str, kind: str) -> Manifest:
    (found,) = [doc for doc in deploy_manifests(file) if doc["kind"] == kind]
    return found


def service_account_subject(manifests: list[Manifest]) -> dict[str, str]:
    account = one(manifests, "ServiceAccount")["metadata"]
    return {"kind": "ServiceAccount", "name": account["name"], "namespace": account["namespace"]}


def test_the_cluster_role_has_the_rules_of_operator_deploy_rbac_yaml(
    default_manifests: list[Manifest],
) -> None:
    expected = deploy_manifest("rbac.yaml", "ClusterRole")["rules"]
    assert one(default_manifests, "ClusterRole")["rules"] == expected


def test_no_rule_uses_a_wildcard(default_manifests: list[Manifest]) -> None:
    for rule in one(default_manifests, "ClusterRole")["rules"]:
        for field in ("apiGroups", "resources", "verbs"):
            assert "*" not in rule[field], rule


def test_by_default_a_cluster_role_binding_serves_every_namespace(
    default_manifests: list[Manifest],
) -> None:
    binding = one(default_manifests, "ClusterRoleBinding")
    role = one(default_manifests, "ClusterRole")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [service_account_subject(default_manifests)]
    assert [b["roleRef"]["kind"] for b in of_kind(default_manifests, "RoleBinding")] == ["Role"]
    env = one(default_manifests, "Deployment")["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "WATCH_NAMESPACES", "value": ""} in env


def test_the_operator_runs_as_the_bound_service_account(
    default_manifests: list[Manifest],
) -> None:
    pod = one(default_manifests, "Deployment")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == service_account_subject(default_manifests)["name"]
    assert service_account_subject(default_manifests)["namespace"] == NAMESPACE


def test_watched_namespaces_get_role_bindings_instead(helm: Helm) -> None:
    manifests = helm.template({"watchNamespaces": ["team-a", "team-b"]})
    assert of_kind(manifests, "ClusterRoleBinding") == []
    bindings = [
        b for b in of_kind(manifests, "RoleBinding") if b["roleRef"]["kind"] == "ClusterRole"
    ]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["team-a", "team-b"]
    # As operator/deploy/rbac-namespaced.yaml: the one ClusterRole, granted per namespace.
    reference = deploy_manifest("rbac-namespaced.yaml", "RoleBinding")
    role_name = one(manifests, "ClusterRole")["metadata"]["name"]
    for binding in bindings:
        assert binding["roleRef"] == {**reference["roleRef"], "name": role_name}
        assert binding["subjects"] == [service_account_subject(manifests)]


def test_rbac_create_false_grants_nothing(helm: Helm) -> None:
    manifests = helm.template({"rbac": {"create": False}, "watchNamespaces": ["team-a"]})
    for kind in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"):
        assert of_kind(manifests, kind) == []


def test_the_lease_role_has_the_rules_of_operator_deploy_rbac_yaml(
    default_manifests: list[Manifest],
) -> None:
    role = one(default_manifests, "Role")
    assert role["metadata"]["namespace"] == NAMESPACE
    assert role["rules"] == deploy_manifest("rbac.yaml", "Role")["rules"]
    (binding,) = [
        b for b in of_kind(default_manifests, "RoleBinding") if b["roleRef"]["kind"] == "Role"
    ]
    assert binding["metadata"]["namespace"] == NAMESPACE
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [service_account_subject(default_manifests)]


def test_without_election_there_is_no_lease_role(helm: Helm) -> None:
    manifests = helm.template({"replicas": 1, "leaderElection": {"enabled": False}})
    assert of_kind(manifests, "Role") == []


def test_an_existing_service_account_is_used_by_name(helm: Helm) -> None:
    manifests = helm.template({"serviceAccount": {"create": False, "name": "platform-sa"}})
    assert of_kind(manifests, "ServiceAccount") == []
    assert one(manifests, "ClusterRoleBinding")["subjects"][0]["name"] == "platform-sa"
    pod = one(manifests, "Deployment")["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "platform-sa"


def test_an_existing_service_account_needs_its_name(helm: Helm) -> None:
    with pytest.raises(HelmError, match=r"serviceAccount\.name is required"):
        helm.template({"serviceAccount": {"create": False}})


def test_cluster_scoped_objects_are_named_after_the_release(helm: Helm) -> None:
    # Two releases (in two namespaces) must not overwrite each other's grants.
    names = {
        (m["kind"], m["metadata"]["name"])
        for m in helm.template(release="other", namespace="elsewhere")
        if m["kind"] in {"ClusterRole", "ClusterRoleBinding"}
    }
    assert names == {
        ("ClusterRole", "other-ingest-operator"),
        ("ClusterRoleBinding", "other-ingest-operator"),
    }

"""`helm install` and `helm uninstall` of the chart on the local control plane.

What the API server stored is read back with requests of the tests' own.
There is no kubelet, so the operator's pod is created but never runs; that
it is created at all shows the restricted Pod Security admission let it in.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import yaml
from kubernetes import client as kube_client

from tests.conftest import unique_name
from tests.support import external_crds
from tests.support.chart import Helm, HelmError, Release, service_account_may
from tests.support.cluster import Cluster, wait_for
from tests.support.crd_schema import load_crd
from tests.support.local_stack import REPO_ROOT
from tests.support.operator import deploy_manifests

CRD_NAME = load_crd()["metadata"]["name"]
# Creating the pod is the ReplicaSet controller's job: a second or two.
CONTROLLER_SECONDS = 30


def enforce_restricted_pod_security(cluster: Cluster, namespace: str) -> None:
    """Label the namespace so the API server refuses any pod short of `restricted`."""
    cluster.patch(
        "Namespace",
        None,
        namespace,
        {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}},
    )


def crd_is_established(cluster: Cluster) -> bool:
    stored = cluster.get("CustomResourceDefinition", None, CRD_NAME) or {}
    return any(
        c["type"] == "Established" and c["status"] == "True"
        for c in stored.get("status", {}).get("conditions", [])
    )


def test_install_runs_the_operator_under_the_restricted_standard(
    helm: Helm, cluster: Cluster, release: Release
) -> None:
    enforce_restricted_pod_security(cluster, release.namespace)
    notes = helm.install(release.name, release.namespace, {"logLevel": "warning"})

    (listed,) = helm.releases(release.namespace)
    assert listed["status"] == "deployed"
    # NOTES.txt says what to do next.
    assert "kubectl get ingsvc" in notes
    assert "examples/" in notes

    deployment = cluster.get("Deployment", release.namespace, release.fullname)
    assert deployment is not None
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert {"name": "LOG_LEVEL", "value": "warning"} in container["env"]
    # The ReplicaSet controller made the pod, and admission (restricted) accepted it.
    selector = ",".join(
        f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items()
    )
    wait_for(
        lambda: cluster.list("Pod", release.namespace, label_selector=selector),
        timeout=CONTROLLER_SECONDS,
        message="the operator's pod is created under the restricted Pod Security Standard",
    )

    assert cluster.get("ServiceAccount", release.namespace, release.fullname) is not None
    assert cluster.get("Service", release.namespace, release.fullname) is not None
    role = cluster.get("ClusterRole", None, release.fullname)
    assert role is not None
    (reference,) = [d for d in deploy_manifests("rbac.yaml") if d["kind"] == "ClusterRole"]
    assert role["rules"] == reference["rules"]
    assert cluster.get("ClusterRoleBinding", None, release.fullname) is not None

    assert wait_for(
        lambda: crd_is_established(cluster), timeout=30, message="the CRD is established"
    )
    crd = cluster.get("CustomResourceDefinition", None, CRD_NAME)
    assert crd is not None
    assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert crd["metadata"]["annotations"]["meta.helm.sh/release-name"] == release.name


def test_cluster_wide_install_grants_the_rules_in_every_namespace(
    helm: Helm, cluster: Cluster, release: Release
) -> None:
    helm.install(release.name, release.namespace)
    elsewhere = unique_name("anywhere")  # need not even exist
    group = "ingest.example.com"

    assert service_account_may(cluster, release, "watch", "ingestservices", elsewhere, group)
    assert service_account_may(cluster, release, "patch", "deployments", elsewhere, "apps")
    assert service_account_may(cluster, release, "get", "secrets", elsewhere)
    # Least privilege: nothing the operator does not do.
    assert not service_account_may(cluster, release, "delete", "ingestservices", elsewhere, group)
    assert not service_account_may(cluster, release, "delete", "deployments", elsewhere, "apps")
    assert not service_account_may(cluster, release, "create", "pods", elsewhere)


def test_namespaced_install_grants_the_rules_in_the_watched_namespaces_only(
    helm: Helm, cluster: Cluster, kube_api: kube_client.ApiClient, release: Release
) -> None:
    core = kube_client.CoreV1Api(kube_api)
    watched = unique_name("watched")
    core.create_namespace(kube_client.V1Namespace(metadata=kube_client.V1ObjectMeta(name=watched)))
    try:
        helm.install(release.name, release.namespace, {"watchNamespaces": [watched]})

        assert cluster.get("RoleBinding", watched, release.fullname) is not None
        assert cluster.get("ClusterRoleBinding", None, release.fullname) is None
        group = "ingest.example.com"
        assert service_account_may(cluster, release, "list", "ingestservices", watched, group)
        assert service_account_may(cluster, release, "create", "events", watched)
        for other in (release.namespace, unique_name("other")):
            assert not service_account_may(cluster, release, "list", "ingestservices", other, group)
            assert not service_account_may(cluster, release, "get", "secrets", other)

        helm.uninstall(release.name, release.namespace)
        assert cluster.get("RoleBinding", watched, release.fullname) is None
    finally:
        core.delete_namespace(watched)


def test_uninstall_removes_the_operator_and_keeps_the_crd(
    helm: Helm, cluster: Cluster, release: Release
) -> None:
    helm.install(release.name, release.namespace)
    assert cluster.get("Deployment", release.namespace, release.fullname) is not None

    helm.uninstall(release.name, release.namespace)

    assert helm.releases(release.namespace) == []
    for kind, namespace in (
        ("Deployment", release.namespace),
        ("ServiceAccount", release.namespace),
        ("Service", release.namespace),
        ("ClusterRole", None),
        ("ClusterRoleBinding", None),
    ):
        assert cluster.get(kind, namespace, release.fullname) is None, kind
    # Deleting the CRD would delete every IngestService in the cluster.
    assert cluster.get("CustomResourceDefinition", None, CRD_NAME) is not None


def test_a_wrong_value_fails_the_install_and_creates_nothing(
    helm: Helm, cluster: Cluster, release: Release
) -> None:
    with pytest.raises(HelmError) as refused:
        # Two replicas without a Lease would both reconcile.
        helm.install(
            release.name, release.namespace, {"replicas": 2, "leaderElection": {"enabled": False}}
        )
    assert "at '/replicas': maximum: got 2, want 1" in refused.value.stderr
    assert helm.releases(release.namespace) == []
    assert cluster.get("Deployment", release.namespace, release.fullname) is None
    assert cluster.get("ClusterRole", None, release.fullname) is None


def test_helm_test_creates_its_pod_which_only_a_kubelet_could_run(
    helm: Helm, cluster: Cluster, release: Release
) -> None:
    # With no kubelet the Pod never runs, so `helm test` cannot pass here; what can
    # be checked is that Helm runs the hook and the API server admits its Pod
    # under the restricted standard.
    enforce_restricted_pod_security(cluster, release.namespace)
    helm.install(release.name, release.namespace)

    with pytest.raises(HelmError, match="timed out waiting for the condition"):
        helm.run("test", release.name, "-n", release.namespace, "--timeout", "3s")

    pod = cluster.get("Pod", release.namespace, f"{release.fullname}-test")
    assert pod is not None
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    assert pod["status"]["phase"] == "Pending"


@pytest.fixture
def monitoring_crds(cluster: Cluster) -> Iterator[None]:
    """prometheus-operator's CRDs the chart's monitoring objects need; set up
    before the release, so removed after it is uninstalled."""
    crds = [
        external_crds.prometheus_operator_crd(plural)
        for plural in ("servicemonitors", "prometheusrules")
    ]
    with external_crds.installed(cluster, crds):
        yield


def test_the_monitoring_objects_are_stored_as_prometheus_operators_crds_accept_them(
    monitoring_crds: None, helm: Helm, cluster: Cluster, release: Release
) -> None:
    values = {"serviceMonitor": {"enabled": True}, "prometheusRule": {"enabled": True}}
    helm.install(release.name, release.namespace, {**values, "grafanaDashboard": {"enabled": True}})

    rule = cluster.must_get("PrometheusRule", release.namespace, release.fullname)
    monitor = cluster.must_get("ServiceMonitor", release.namespace, release.fullname)
    shipped = yaml.safe_load((REPO_ROOT / "monitoring" / "ingest-service.rules.yaml").read_text())
    stored_alerts = [r["alert"] for g in rule["spec"]["groups"] for r in g["rules"]]
    assert stored_alerts == [r["alert"] for g in shipped["groups"] for r in g["rules"]]
    assert monitor["spec"]["endpoints"][0]["honorLabels"] is True
    dashboard = cluster.must_get("ConfigMap", release.namespace, f"{release.fullname}-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"

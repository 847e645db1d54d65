"""What the chart renders by default, and the optional objects it adds only when asked.

The PodDisruptionBudget, ServiceMonitor and NetworkPolicy are off by default
(a ServiceMonitor needs prometheus-operator's CRDs; a NetworkPolicy needs to
know where the API server is); each is checked to select what it means to.
"""

from __future__ import annotations

from typing import Any

from tests.support.chart import Helm, Manifest, kinds, of_kind, one

EVERYTHING_ON = {
    "podDisruptionBudget": {"enabled": True},
    "serviceMonitor": {"enabled": True},
    "networkPolicy": {"enabled": True},
}


def operator_pod_labels(manifests: list[Manifest]) -> dict[str, str]:
    labels: dict[str, str] = one(manifests, "Deployment")["spec"]["template"]["metadata"]["labels"]
    return labels


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return selector.items() <= labels.items()


def test_default_objects(default_manifests: list[Manifest]) -> None:
    assert kinds(default_manifests) == {
        "CustomResourceDefinition",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",  # the Lease's, for leader election
        "RoleBinding",
        "Service",
        "Deployment",
        "Pod",  # the `helm test` hook
    }


def test_optional_objects_only_when_enabled(helm: Helm) -> None:
    for key, kind in (
        ("podDisruptionBudget", "PodDisruptionBudget"),
        ("serviceMonitor", "ServiceMonitor"),
        ("networkPolicy", "NetworkPolicy"),
    ):
        manifests = helm.template({key: {"enabled": True}})
        assert kinds(manifests) - {"Pod"} >= {kind}, kind
        others = {"PodDisruptionBudget", "ServiceMonitor", "NetworkPolicy"} - {kind}
        assert not kinds(manifests) & others, kind


def test_every_namespaced_object_lands_in_the_release_namespace(helm: Helm) -> None:
    manifests = helm.template(EVERYTHING_ON, namespace="ops")
    cluster_scoped = {"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"}
    for manifest in manifests:
        if manifest["kind"] not in cluster_scoped:
            assert manifest["metadata"]["namespace"] == "ops", manifest["kind"]


def test_the_service_exposes_the_operators_named_ports(default_manifests: list[Manifest]) -> None:
    service = one(default_manifests, "Service")
    assert selects(service["spec"]["selector"], operator_pod_labels(default_manifests))
    assert {(p["name"], p["port"], p["targetPort"]) for p in service["spec"]["ports"]} == {
        ("metrics", 8080, "metrics"),
        ("health", 8081, "health"),
    }


def test_pod_disruption_budget_allows_a_drain_by_default(helm: Helm) -> None:
    manifests = helm.template({"podDisruptionBudget": {"enabled": True}})
    budget = one(manifests, "PodDisruptionBudget")["spec"]
    assert budget["maxUnavailable"] == 1
    assert "minAvailable" not in budget
    assert budget["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    assert selects(budget["selector"]["matchLabels"], operator_pod_labels(manifests))


def test_pod_disruption_budget_min_available_wins(helm: Helm) -> None:
    manifests = helm.template({"podDisruptionBudget": {"enabled": True, "minAvailable": 1}})
    budget = one(manifests, "PodDisruptionBudget")["spec"]
    assert budget["minAvailable"] == 1
    assert "maxUnavailable" not in budget


def test_service_monitor_scrapes_the_metrics_port(helm: Helm) -> None:
    manifests = helm.template(
        {"serviceMonitor": {"enabled": True, "labels": {"release": "prometheus"}}}
    )
    monitor = one(manifests, "ServiceMonitor")
    service = one(manifests, "Service")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert selects(monitor["spec"]["selector"]["matchLabels"], service["metadata"]["labels"])
    assert monitor["spec"]["namespaceSelector"] == {
        "matchNames": [service["metadata"]["namespace"]]
    }
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["port"] in {p["name"] for p in service["spec"]["ports"]}
    assert endpoint["path"] == "/metrics"


def network_policy(helm: Helm, **values: Any) -> tuple[dict[str, Any], list[Manifest]]:
    manifests = helm.template({"networkPolicy": {"enabled": True, **values}})
    spec: dict[str, Any] = one(manifests, "NetworkPolicy")["spec"]
    return spec, manifests


def test_network_policy_covers_the_operator_both_ways(helm: Helm) -> None:
    policy, manifests = network_policy(helm)
    assert selects(policy["podSelector"]["matchLabels"], operator_pod_labels(manifests))
    assert sorted(policy["policyTypes"]) == ["Egress", "Ingress"]


def test_network_policy_egress_is_the_api_server_only(helm: Helm) -> None:
    policy, _ = network_policy(helm)
    (rule,) = policy["egress"]
    assert rule["ports"] == [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]
    assert "to" not in rule  # any address, those ports only: no DNS, nothing else

    policy, _ = network_policy(helm, apiServer={"ports": [6443], "cidrs": ["10.0.0.1/32"]})
    (rule,) = policy["egress"]
    assert rule == {
        "ports": [{"port": 6443, "protocol": "TCP"}],
        "to": [{"ipBlock": {"cidr": "10.0.0.1/32"}}],
    }


def test_network_policy_lets_scrapers_and_the_helm_test_in(helm: Helm) -> None:
    scrapers = [{"namespaceSelector": {"matchLabels": {"name": "monitoring"}}}]
    policy, manifests = network_policy(helm, metricsFrom=scrapers)
    metrics_rule, test_rule = policy["ingress"]
    assert metrics_rule == {"ports": [{"port": "metrics", "protocol": "TCP"}], "from": scrapers}
    (test_pod,) = of_kind(manifests, "Pod")
    (peer,) = test_rule["from"]
    assert selects(peer["podSelector"]["matchLabels"], test_pod["metadata"]["labels"])
    assert {p["port"] for p in test_rule["ports"]} == {"metrics", "health"}
    # The test Pod is not mistaken for the operator.
    assert not selects(policy["podSelector"]["matchLabels"], test_pod["metadata"]["labels"])

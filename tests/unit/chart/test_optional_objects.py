"""What the chart renders by default, and the optional objects it adds only when asked.

The PodDisruptionBudget, ServiceMonitor, NetworkPolicy, PrometheusRule and
Grafana dashboard are off by default (the monitoring objects need
prometheus-operator's CRDs or Grafana's sidecar; a NetworkPolicy needs to
know where the API server is); each is checked to select what it means to.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from tests.support.chart import Helm, Manifest, kinds, of_kind, one
from tests.support.local_stack import REPO_ROOT

EVERYTHING_ON = {
    "podDisruptionBudget": {"enabled": True},
    "serviceMonitor": {"enabled": True},
    "networkPolicy": {"enabled": True},
    "prometheusRule": {"enabled": True},
    "grafanaDashboard": {"enabled": True},
}
OPTIONAL = {
    "podDisruptionBudget": "PodDisruptionBudget",
    "serviceMonitor": "ServiceMonitor",
    "networkPolicy": "NetworkPolicy",
    "prometheusRule": "PrometheusRule",
    "grafanaDashboard": "ConfigMap",
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
    for key, kind in OPTIONAL.items():
        manifests = helm.template({key: {"enabled": True}})
        assert kinds(manifests) - {"Pod"} >= {kind}, kind
        others = set(OPTIONAL.values()) - {kind}
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


def test_service_monitor_keeps_the_ingestservices_namespace_label(helm: Helm) -> None:
    monitor = one(helm.template({"serviceMonitor": {"enabled": True}}), "ServiceMonitor")
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["honorLabels"] is True


def test_prometheus_rule_carries_the_shipped_rules_with_extra_labels(helm: Helm) -> None:
    manifests = helm.template(
        {
            "prometheusRule": {
                "enabled": True,
                "labels": {"release": "prometheus"},
                "additionalRuleLabels": {"team": "platform", "severity": "ignored"},
            }
        }
    )
    rule = one(manifests, "PrometheusRule")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["metadata"]["labels"]["release"] == "prometheus"
    shipped = yaml.safe_load((REPO_ROOT / "monitoring" / "ingest-service.rules.yaml").read_text())
    rendered = rule["spec"]["groups"]
    assert [g["name"] for g in rendered] == [g["name"] for g in shipped["groups"]]
    for ours, theirs in zip(rendered, shipped["groups"], strict=True):
        for rendered_rule, shipped_rule in zip(ours["rules"], theirs["rules"], strict=True):
            labels = rendered_rule.pop("labels")
            # The rule's own severity wins over the extra labels.
            assert labels == {**shipped_rule.pop("labels"), "team": "platform"}
            assert rendered_rule == shipped_rule


def test_grafana_dashboard_is_a_configmap_the_sidecar_loads(helm: Helm) -> None:
    manifests = helm.template(
        {"grafanaDashboard": {"enabled": True, "namespace": "monitoring"}}, namespace="ops"
    )
    config_map = one(manifests, "ConfigMap")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["namespace"] == "monitoring"
    shipped = json.loads(
        (REPO_ROOT / "monitoring" / "dashboards" / "ingest-service.json").read_text()
    )
    assert json.loads(config_map["data"]["ingest-service.json"]) == shipped

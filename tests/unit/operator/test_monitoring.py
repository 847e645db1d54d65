"""spec.monitoring: a PodMonitor that scrapes the `metrics` port of the API's and
the worker's pods (and no other), labelling every series with the IngestService
and the component, rendered only where the cluster serves its CRD."""

from __future__ import annotations

from typing import Any

from ingest_operator.monitoring_spec import DEFAULT_MONITORING
from ingest_operator.spec import parse_spec
from tests.support.crd_schema import apply_schema_defaults, load_crd, root_schema
from tests.support.ingest_service_builders import minimal_spec
from tests.unit.operator.rendered_children import OWNER, render_children

SPEC_SCHEMA = root_schema(load_crd())["properties"]["spec"]


def monitored(**monitoring: Any) -> dict[str, Any]:
    raw = minimal_spec()
    raw["monitoring"] = {"enabled": True, **monitoring}
    return raw


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if not selector["matchLabels"].items() <= labels.items():
        return False
    return all(
        labels.get(expression["key"]) in expression["values"]
        for expression in selector["matchExpressions"]
    )


def pod_template(kind: str, child: dict[str, Any]) -> dict[str, Any] | None:
    if kind in {"Deployment", "Job"}:
        template: dict[str, Any] = child["spec"]["template"]
        return template
    if kind == "CronJob":
        cron_template: dict[str, Any] = child["spec"]["jobTemplate"]["spec"]["template"]
        return cron_template
    return None


def test_the_crds_defaults_are_the_operators() -> None:
    spec = parse_spec(apply_schema_defaults(minimal_spec(), SPEC_SCHEMA))
    assert spec.monitoring == DEFAULT_MONITORING
    assert not DEFAULT_MONITORING.enabled


def test_no_pod_monitor_unless_asked_and_served() -> None:
    assert not [k for k in render_children(pod_monitor_served=True) if k[0] == "PodMonitor"]
    assert not [k for k in render_children(monitored()) if k[0] == "PodMonitor"]
    assert ("PodMonitor", OWNER.name) in render_children(monitored(), pod_monitor_served=True)


def test_the_pod_monitor_scrapes_the_api_and_the_worker_and_nothing_else() -> None:
    children = render_children(monitored(interval="15s"), pod_monitor_served=True)
    monitor = children["PodMonitor", OWNER.name]
    selector = monitor["spec"]["selector"]
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("metrics", "/metrics")
    assert endpoint["interval"] == "15s"

    scraped = []
    for (kind, name), child in children.items():
        template = pod_template(kind, child)
        if template and selects(selector, template["metadata"]["labels"]):
            scraped.append(name)
            containers = template["spec"]["containers"]
            assert endpoint["port"] in {p["name"] for c in containers for p in c.get("ports", [])}
    assert sorted(scraped) == [f"{OWNER.name}-api", f"{OWNER.name}-worker"]


def test_every_series_is_labelled_with_the_service_and_the_component() -> None:
    monitor = render_children(monitored(), pod_monitor_served=True)["PodMonitor", OWNER.name]
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    copied = {r["targetLabel"]: r["sourceLabels"] for r in endpoint["relabelings"]}
    assert copied == {
        "ingestservice": ["__meta_kubernetes_pod_label_app_kubernetes_io_instance"],
        "component": ["__meta_kubernetes_pod_label_app_kubernetes_io_component"],
    }


def test_the_users_labels_select_the_monitor_but_never_replace_ours() -> None:
    labels = {"release": "prometheus", "app.kubernetes.io/managed-by": "someone"}
    monitor = render_children(monitored(labels=labels), pod_monitor_served=True)[
        "PodMonitor", OWNER.name
    ]
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "ingest-operator"
    assert monitor["metadata"]["ownerReferences"][0]["uid"] == OWNER.uid

"""The shipped alerts and dashboard against what the services really export: a
real Prometheus scrapes the API, the worker and the operator that hack/e2e.sh
left running, through the PodMonitor the operator renders and the scrape the
chart's ServiceMonitor asks for; every expression must evaluate and name only
metrics and labels that exist. Then the workers are stopped, a job is queued,
and the oldest-message alert fires for real."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as kube_client

from ingest_operator.monitoring import pod_monitor_spec
from ingest_operator.monitoring_spec import Monitoring
from tests.e2e.conftest import E2ERun
from tests.support.cluster import wait_for
from tests.support.local_stack import REPO_ROOT
from tests.support.prometheus import (
    Prometheus,
    operator_scrape_config,
    pod_monitor_scrape_config,
    running_prometheus,
)
from tests.support.promql import names_in

MONITORING = REPO_ROOT / "monitoring"
RULES = MONITORING / "ingest-service.rules.yaml"
DASHBOARD = MONITORING / "dashboards" / "ingest-service.json"
SERVICE = "logs"  # examples/ingestservice-development.yaml
# The alert driven to firing, with its threshold and `for` shortened (the same
# expression otherwise) so that it fires within the test's patience.
FAST_ALERT = "IngestJobsWaitingTooLong"


def fast_rules(work_dir: Path) -> Path:
    rules = yaml.safe_load(RULES.read_text())
    (rule,) = [r for g in rules["groups"] for r in g["rules"] if r.get("alert") == FAST_ALERT]
    assert "> 900" in rule["expr"]
    rule["expr"] = rule["expr"].replace("> 900", "> 3")
    rule["for"] = "2s"
    path = work_dir / "fast.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "fast", "rules": [rule]}]}))
    return path


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ]
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            # label_values(SELECTOR, LABEL): the selector, and the label on it.
            selector, label = re.fullmatch(
                r"label_values\((.*), *(\w+)\)", variable["definition"]
            ).groups()  # type: ignore[union-attr]
            expressions.append(f"count by ({label}) ({selector})")
    return expressions


def rule_expressions() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["expr"] for group in groups for rule in group["rules"]]


def as_evaluated(expression: str, e2e: E2ERun) -> str:
    """A dashboard query as Grafana sends it, for this run's service."""
    return (
        expression.replace("$__rate_interval", "1m")
        .replace("$namespace", e2e.namespace)
        .replace("$ingestservice", SERVICE)
    )


@pytest.fixture(scope="module")
def prometheus(e2e: E2ERun, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    work_dir = tmp_path_factory.mktemp("prometheus")
    targets = e2e.work_dir / "kubelet" / "prometheus-targets.json"
    scrape_configs = [
        pod_monitor_scrape_config(
            e2e.namespace, SERVICE, pod_monitor_spec(SERVICE, Monitoring(interval="1s")), targets
        ),
        operator_scrape_config(e2e.operator_namespace, e2e.release, targets),
    ]
    with running_prometheus(work_dir, scrape_configs, [RULES, fast_rules(work_dir)]) as server:
        wait_for(
            lambda: all_scraped(server, e2e.release),
            timeout=60,
            message="prometheus scrapes the API, the worker and the operator",
        )
        yield server


def all_scraped(server: Prometheus, release: str) -> bool:
    up = server.query("up == 1")
    components = {sample["metric"].get("component") for sample in up}
    operator = [s for s in up if s["metric"]["job"] == release]
    return {"api", "worker"} <= components and bool(operator)


def test_every_expression_names_only_metrics_and_labels_the_services_export(
    prometheus: Prometheus, e2e: E2ERun
) -> None:
    # A few scrapes in, every target's metadata and series are in.
    wait_for(
        lambda: "ingest_operator_ingestservice_condition" in prometheus.metric_names(),
        timeout=30,
        message="the operator's metrics",
    )
    exported = prometheus.metric_names()
    problems = []
    for expression in rule_expressions() + dashboard_expressions():
        evaluated = as_evaluated(expression, e2e)
        error = prometheus.try_query(evaluated)
        if error:
            problems.append(f"{expression!r} does not evaluate: {error}")
            continue
        names = names_in(evaluated)
        unknown = names.metrics - exported
        if unknown:
            problems.append(f"{expression!r} names metrics no service exports: {sorted(unknown)}")
            continue
        labels: set[str] = set()
        for metric in names.metrics:
            labels |= prometheus.label_names(metric)
        if labels and not names.labels <= labels:
            missing = sorted(names.labels - labels)
            problems.append(f"{expression!r} uses labels no series of it has: {missing}")
    assert problems == [], "\n".join(problems)


def set_workers(kube_api: kube_client.ApiClient, e2e: E2ERun, replicas: int) -> None:
    kube_client.CustomObjectsApi(kube_api).patch_namespaced_custom_object(
        "ingest.example.com", "v1alpha1", e2e.namespace, "ingestservices", SERVICE,
        {"spec": {"replicas": {"worker": replicas}}},
    )  # fmt: skip


def ready_again(kube_api: kube_client.ApiClient, e2e: E2ERun) -> bool:
    service = kube_client.CustomObjectsApi(kube_api).get_namespaced_custom_object(
        "ingest.example.com", "v1alpha1", e2e.namespace, "ingestservices", SERVICE
    )
    status = service.get("status") or {}
    ready = {c["type"]: c["status"] for c in status.get("conditions", [])}.get("Ready")
    current = status.get("observedGeneration") == service["metadata"]["generation"]
    return bool(current and ready == "True")


def test_the_oldest_message_alert_fires_when_the_workers_stop(
    prometheus: Prometheus, e2e: E2ERun, kube_api: kube_client.ApiClient
) -> None:
    set_workers(kube_api, e2e, 0)
    try:
        wait_for(
            lambda: (
                not prometheus.query(f'up{{component="worker", namespace="{e2e.namespace}"}} == 1')
            ),
            timeout=120,
            message="no worker is left to scrape",
        )
        queued = subprocess.run(
            [str(REPO_ROOT / ".venv" / "bin" / "ingestctl"), "upload",
             str(REPO_ROOT / "examples" / "logs" / "checkout.log.gz")],
            env={**e2e.env, "INGESTCTL_CONFIG": str(e2e.work_dir / "ingestctl.json")},
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert queued.returncode == 0, queued.stdout + queued.stderr

        alerts: list[dict[str, Any]] = wait_for(
            lambda: prometheus.firing(FAST_ALERT), timeout=90, message=f"{FAST_ALERT} fires"
        )
    finally:
        # The other e2e tests see the service as the README's path left it.
        set_workers(kube_api, e2e, 1)
        wait_for(
            lambda: ready_again(kube_api, e2e),
            timeout=180,
            message=f"{SERVICE} is Ready again with its worker",
        )
    (alert,) = alerts
    assert alert["labels"]["namespace"] == e2e.namespace
    assert alert["labels"]["ingestservice"] == SERVICE
    assert alert["annotations"]["runbook"] == f"monitoring/README.md#{FAST_ALERT.lower()}"

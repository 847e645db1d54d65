"""A real Prometheus (hack/build-tools.sh builds it) scraping local processes.

The targets come from the local kubelet's `prometheus-targets.json` (file_sd,
labelled as Kubernetes service discovery labels pods), and the scrape
configurations are what prometheus-operator generates from a PodMonitor and
a ServiceMonitor: the same selection by pod labels and port name, the same
target labels, and the monitor's own relabelings, so a relabeling the
operator renders is exercised as it is.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import yaml

from ingest_operator.monitoring import discovery_label
from tests.support.chart import tool_binary
from tests.support.cluster import wait_for
from tests.support.processes import free_port, stop

# OpenMetrics, which Prometheus asks for, names a family without the suffixes
# of its series: a counter `x` has the series `x_total`, and so on.
_SERIES_SUFFIXES = {
    "counter": ("", "_total"),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
    "info": ("_info",),
}


def _keep(source: str, regex: str) -> dict[str, Any]:
    return {"action": "keep", "source_labels": [source], "regex": regex}


def _target_labels(port: str) -> list[dict[str, Any]]:
    """The labels prometheus-operator gives every target it generates."""
    return [
        {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
        {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
        {"source_labels": ["__meta_kubernetes_pod_container_name"], "target_label": "container"},
        {"target_label": "endpoint", "replacement": port},
    ]


def _relabeling(rule: Mapping[str, Any]) -> dict[str, Any]:
    """A monitor's relabeling (camelCase) as Prometheus's configuration spells it."""
    spelled = {"sourceLabels": "source_labels", "targetLabel": "target_label"}
    return {spelled.get(key, key): value for key, value in rule.items()}


def pod_monitor_scrape_config(
    namespace: str, name: str, spec: Mapping[str, Any], targets_file: Path
) -> dict[str, Any]:
    """The scrape configuration prometheus-operator generates for a PodMonitor."""
    (endpoint,) = spec["podMetricsEndpoints"]
    selector = spec["selector"]
    selecting = [_keep("__meta_kubernetes_namespace", re.escape(namespace))]
    selecting += [
        _keep(discovery_label(key), re.escape(value))
        for key, value in selector.get("matchLabels", {}).items()
    ]
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", expression
        values = "|".join(re.escape(v) for v in expression["values"])
        selecting.append(_keep(discovery_label(expression["key"]), f"({values})"))
    selecting.append(
        _keep("__meta_kubernetes_pod_container_port_name", re.escape(endpoint["port"]))
    )
    return {
        "job_name": f"podMonitor/{namespace}/{name}/0",
        "metrics_path": endpoint.get("path", "/metrics"),
        "file_sd_configs": [{"files": [str(targets_file)], "refresh_interval": "1s"}],
        "relabel_configs": [
            *selecting,
            *_target_labels(endpoint["port"]),
            {"target_label": "job", "replacement": f"{namespace}/{name}"},
            *(_relabeling(rule) for rule in endpoint.get("relabelings", [])),
        ],
    }


def operator_scrape_config(namespace: str, release: str, targets_file: Path) -> dict[str, Any]:
    """What the chart's ServiceMonitor for the operator amounts to (honorLabels)."""
    return {
        "job_name": f"serviceMonitor/{namespace}/{release}/0",
        "honor_labels": True,
        "file_sd_configs": [{"files": [str(targets_file)], "refresh_interval": "1s"}],
        "relabel_configs": [
            _keep("__meta_kubernetes_namespace", re.escape(namespace)),
            _keep(discovery_label("app.kubernetes.io/name"), "ingest-operator"),
            _keep(discovery_label("app.kubernetes.io/instance"), re.escape(release)),
            _keep("__meta_kubernetes_pod_container_port_name", "metrics"),
            *_target_labels("metrics"),
            {"target_label": "job", "replacement": release},
        ],
    }


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def _get(self, path: str, **params: Any) -> Any:
        answer = httpx.get(f"{self.url}{path}", params=params, timeout=30).json()
        assert answer["status"] == "success", answer
        return answer["data"]

    def query(self, expression: str) -> list[dict[str, Any]]:
        data = self._get("/api/v1/query", query=expression)
        return list(data["result"]) if data["resultType"] == "vector" else [data]

    def try_query(self, expression: str) -> str | None:
        """None when the expression evaluates; else Prometheus's error."""
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": expression}, timeout=30)
        body = answer.json()
        return None if body["status"] == "success" else str(body.get("error"))

    def metric_names(self) -> set[str]:
        """Every series name a target exported, or announced with a TYPE line
        (a labelled metric before its first sample)."""
        with_samples = set(self._get("/api/v1/label/__name__/values"))
        announced = {
            name + suffix
            for entry in self._get("/api/v1/targets/metadata")
            for name in (entry["metric"],)
            for suffix in _SERIES_SUFFIXES.get(entry["type"], ("",))
        }
        return with_samples | announced

    def label_names(self, metric: str) -> set[str]:
        return set(self._get("/api/v1/labels", **{"match[]": metric}))

    def firing(self, alert: str) -> list[dict[str, Any]]:
        alerts = self._get("/api/v1/alerts")["alerts"]
        return [a for a in alerts if a["labels"]["alertname"] == alert and a["state"] == "firing"]


@contextlib.contextmanager
def running_prometheus(
    work_dir: Path, scrape_configs: list[dict[str, Any]], rule_files: list[Path]
) -> Iterator[Prometheus]:
    binary = tool_binary("PROMETHEUS")
    assert binary.is_file(), f"prometheus is not built yet ({binary}); run hack/build-tools.sh"
    config = {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(path) for path in rule_files],
        "scrape_configs": scrape_configs,
    }
    config_file = work_dir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    log = (work_dir / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [
            str(binary),
            f"--config.file={config_file}",
            f"--storage.tsdb.path={work_dir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _ready(url), timeout=60, message="prometheus answers /-/ready")
        yield Prometheus(url)
    finally:
        stop(process)
        log.close()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        time.sleep(0.2)
        return False

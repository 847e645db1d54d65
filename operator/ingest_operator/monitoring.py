"""The PodMonitor spec.monitoring asks for (pure).

One PodMonitor per IngestService scrapes the `metrics` port of its API and
worker pods. Its relabelings copy the pods' instance and component labels
to `ingestservice` and `component` on every series: the labels the shipped
alerts and dashboard (monitoring/) group by. prometheus-operator adds
`namespace`, `pod` and `container` itself. render.py wraps the spec into an
object with the children's metadata.
"""

from __future__ import annotations

import re
from typing import Any, Final

from ingest_operator import naming
from ingest_operator.monitoring_spec import Monitoring
from ingest_operator.naming import Component
from ingest_operator.pods import METRICS_PORT_NAME

POD_MONITOR_API_VERSION: Final = "monitoring.coreos.com/v1"


def discovery_label(pod_label: str) -> str:
    """The name Prometheus's Kubernetes service discovery gives a pod label."""
    return "__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", pod_label)


def _copied_pod_label(pod_label: str, target: str) -> dict[str, Any]:
    source = discovery_label(pod_label)
    return {"action": "replace", "sourceLabels": [source], "targetLabel": target}


def pod_monitor_spec(name: str, monitoring: Monitoring) -> dict[str, Any]:
    """Scrape the `metrics` port of the API's and the worker's pods of `name`."""
    return {
        "selector": {
            "matchLabels": {naming.LABEL_NAME: naming.PART_OF, naming.LABEL_INSTANCE: name},
            "matchExpressions": [
                {
                    "key": naming.LABEL_COMPONENT,
                    "operator": "In",
                    "values": [Component.API.value, Component.WORKER.value],
                }
            ],
        },
        "podMetricsEndpoints": [
            {
                "port": METRICS_PORT_NAME,
                "path": "/metrics",
                "interval": monitoring.interval,
                "relabelings": [
                    _copied_pod_label(naming.LABEL_INSTANCE, "ingestservice"),
                    _copied_pod_label(naming.LABEL_COMPONENT, "component"),
                ],
            }
        ],
    }

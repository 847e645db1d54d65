"""The operator's Prometheus metrics: how often it reconciles, how it ends, how long it
takes, what waits, whether this replica leads, and the conditions of each IngestService.

One registry of its own, so the endpoint shows the operator's metrics and
nothing a library registered globally; served on METRICS_PORT by main.py.
"""

from __future__ import annotations

import importlib.metadata
import platform
from collections.abc import Iterable, Mapping
from typing import Any, Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Info,
    start_http_server,
)

REGISTRY: Final = CollectorRegistry(auto_describe=True)

RECONCILES: Final = Counter(
    "ingest_operator_reconciles",
    "Reconciliations of IngestServices, by how they ended "
    "(ready, progressing, held, degraded, paused, gone, error).",
    ["result"],
    registry=REGISTRY,
)
TRIGGERS: Final = Counter(
    "ingest_operator_reconcile_triggers",
    "Why a reconciliation was asked for (change, child kind, secret, requeue, resync), "
    "before requests arriving during a running one are folded into it.",
    ["trigger"],
    registry=REGISTRY,
)
ERRORS: Final = Counter(
    "ingest_operator_reconcile_errors",
    "Reconciliations that failed with an error, by its type (retried with back-off).",
    ["error"],
    registry=REGISTRY,
)
# A reconciliation is a dozen API requests: tens of milliseconds when all is
# well, seconds when the API server is slow or a request times out.
DURATION: Final = Histogram(
    "ingest_operator_reconcile_duration_seconds",
    "Time one reconciliation of an IngestService took.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)
API_REQUESTS: Final = Counter(
    "ingest_operator_api_requests",
    "Requests of the reconciler to the Kubernetes API server, by method and status code "
    "(kopf's watches not included; code 0: no answer).",
    ["method", "code"],
    registry=REGISTRY,
)
QUEUE_DEPTH: Final = Gauge(
    "ingest_operator_queue_depth",
    "IngestServices submitted for reconciliation and not yet picked up by a worker.",
    registry=REGISTRY,
)
# One series per IngestService and condition type: as many as the operator
# manages, which is bounded (and what an alert per service needs).
CONDITION: Final = Gauge(
    "ingest_operator_ingestservice_condition",
    "1 while the condition of the IngestService is True, 0 while False or Unknown "
    "(Ready, Progressing, Degraded, PolicyCompliant, Paused).",
    ["namespace", "name", "condition"],
    registry=REGISTRY,
)
BUILD: Final = Info(
    "ingest_operator_build",
    "The operator's version and the versions of what it runs on.",
    registry=REGISTRY,
)
LEADER: Final = Gauge(
    "ingest_operator_leader",
    "1 while this replica holds the Lease and reconciles, 0 while it stands by.",
    registry=REGISTRY,
)

ERROR_RESULT: Final = "error"


def record_conditions(namespace: str, name: str, conditions: Iterable[Mapping[str, Any]]) -> None:
    """Export the conditions an IngestService's status was just given."""
    for condition in conditions:
        value = 1.0 if condition.get("status") == "True" else 0.0
        CONDITION.labels(namespace, name, str(condition.get("type"))).set(value)


def forget_ingest_service(namespace: str, name: str) -> None:
    """The IngestService is gone: its series go too."""
    for labels in _condition_labels(namespace, name):
        CONDITION.remove(*labels)


def _condition_labels(namespace: str, name: str) -> list[tuple[str, str, str]]:
    found = []
    for metric in CONDITION.collect():
        for sample in metric.samples:
            labels = sample.labels
            if labels.get("namespace") == namespace and labels.get("name") == name:
                found.append((namespace, name, labels["condition"]))
    return found


def record_build() -> None:
    BUILD.info(
        {
            "version": _version("ingest-operator"),
            "kopf": _version("kopf"),
            "python": platform.python_version(),
        }
    )


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def serve_metrics(port: int) -> None:
    """Serve /metrics on every interface, in a daemon thread (0: not at all)."""
    if port:
        start_http_server(port, registry=REGISTRY)

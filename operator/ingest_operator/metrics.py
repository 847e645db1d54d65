"""The operator's Prometheus metrics: how often it reconciles, how it ends, how long it takes.

One registry of its own, so the endpoint shows the operator's metrics and
nothing a library registered globally; served on METRICS_PORT by main.py.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

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
LEADER: Final = Gauge(
    "ingest_operator_leader",
    "1 while this replica holds the Lease and reconciles, 0 while it stands by.",
    registry=REGISTRY,
)

ERROR_RESULT: Final = "error"


def serve_metrics(port: int) -> None:
    """Serve /metrics on every interface, in a daemon thread (0: not at all)."""
    if port:
        start_http_server(port, registry=REGISTRY)

"""Prometheus metrics of the API and the worker, in one registry.

Labels are bounded: routes by template (never the raw path), job states by
name. Each process (an API pod runs one uvicorn process) serves its own
/metrics, so prometheus-client's multiprocess mode is not needed.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_REQUEST_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
JOB_TRANSITIONS = Counter(
    "ingest_job_transitions_total",
    "Job state transitions committed, by target state.",
    ["state"],
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "ingest_outbox_backlog",
    "Outbox messages committed but not yet added to the Redis Stream.",
    registry=REGISTRY,
)
OUTBOX_RELAYED = Counter(
    "ingest_outbox_relayed_total",
    "Outbox messages added to the Redis Stream.",
    registry=REGISTRY,
)
DB_RETRIES = Counter(
    "ingest_db_transaction_retries_total",
    "Database transactions retried after a transient error, by error kind.",
    ["kind"],
    registry=REGISTRY,
)
DEPENDENCY_ERRORS = Counter(
    "ingest_dependency_errors_total",
    "Requests answered 503 because a dependency was unreachable.",
    ["dependency"],
    registry=REGISTRY,
)
RATE_LIMITED = Counter(
    "ingest_rate_limited_total",
    "Requests refused with 429, by what the limit was keyed on.",
    ["key_kind"],
    registry=REGISTRY,
)

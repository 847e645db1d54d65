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
JOB_STATE_SECONDS = Histogram(
    "ingest_job_state_duration_seconds",
    "Time a job spent in a state, observed when it leaves that state, by the state left.",
    ["state"],
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600),
    registry=REGISTRY,
)
JOB_BATCH_SIZE = Histogram(
    "ingest_job_batch_size",
    "Requests one statement served, by operation (create, read): concurrent job"
    " creations are inserted together, and concurrent job reads are read together.",
    ["operation"],
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 512),
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

# --- the queue, sampled by the API (it runs while the workers may not) ---------

QUEUE_MESSAGES = Gauge(
    "ingest_queue_messages",
    "Messages the job stream holds (acknowledged ones until the stream is trimmed).",
    registry=REGISTRY,
)
QUEUE_UNDELIVERED = Gauge(
    "ingest_queue_undelivered_messages",
    "Messages no worker has read yet.",
    registry=REGISTRY,
)
QUEUE_PENDING = Gauge(
    "ingest_queue_pending_messages",
    "Messages a worker has read but not acknowledged (being processed, or its worker died).",
    registry=REGISTRY,
)
QUEUE_OLDEST_AGE = Gauge(
    "ingest_queue_oldest_message_age_seconds",
    "Age of the oldest message not yet acknowledged, undelivered or pending; 0 when none.",
    registry=REGISTRY,
)
QUEUE_DEAD_LETTERS = Gauge(
    "ingest_queue_dead_letter_messages",
    "Messages in the dead-letter stream.",
    registry=REGISTRY,
)
QUEUE_SAMPLE_ERRORS = Counter(
    "ingest_queue_sample_errors_total",
    "Samplings of the queue gauges that failed (Redis unreachable); the gauges keep their values.",
    registry=REGISTRY,
)

# --- the worker ---------------------------------------------------------------

WORKER_CONSUMERS = Gauge(
    "ingest_worker_consumers",
    "A worker's consumer loops, by state: busy (handling a message) or idle.",
    ["state"],
    registry=REGISTRY,
)

WORKER_JOBS = Counter(
    "ingest_worker_jobs_total",
    "Jobs a worker finished handling, by outcome.",
    ["outcome"],
    registry=REGISTRY,
)
WORKER_PROCESSING_SECONDS = Histogram(
    "ingest_worker_processing_seconds",
    "Time to process one file, from the first byte read to the result stored, by detected format.",
    ["format"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
    registry=REGISTRY,
)
WORKER_BYTES = Counter(
    "ingest_worker_bytes_total",
    "Bytes of uploaded files read (as stored, before decompression), counted as they are read.",
    registry=REGISTRY,
)
WORKER_INPUT_BYTES = Counter(
    "ingest_worker_input_bytes_total",
    "Bytes of the files processed to the end (as stored), by detected format.",
    ["format"],
    registry=REGISTRY,
)
WORKER_OUTPUT_BYTES = Counter(
    "ingest_worker_output_bytes_total",
    "Bytes of the normalised results written (gzip NDJSON), by the input's format.",
    ["format"],
    registry=REGISTRY,
)
WORKER_LINES = Counter(
    "ingest_worker_lines_total",
    "Log lines processed.",
    registry=REGISTRY,
)
WORKER_RECLAIMS = Counter(
    "ingest_worker_reclaims_total",
    "Messages taken over from a consumer that stopped answering.",
    registry=REGISTRY,
)
WORKER_DEAD_LETTERS = Counter(
    "ingest_worker_dead_letters_total",
    "Messages moved to the dead-letter stream after too many deliveries.",
    registry=REGISTRY,
)
WORKER_FAILURES = Counter(
    "ingest_worker_failures_total",
    "Jobs a worker failed, by the failure's stable code (internal_error: a bug of ours).",
    ["code"],
    registry=REGISTRY,
)
WORKER_DEPENDENCY_WAITS = Counter(
    "ingest_worker_dependency_waits_total",
    "Times a worker waited and retried a step because a dependency was unreachable.",
    ["dependency"],
    registry=REGISTRY,
)
WORKER_RECOVERED_JOBS = Counter(
    "ingest_worker_recovered_jobs_total",
    "Jobs whose message was lost, taken over by the recovery (queued again, or failed).",
    ["from_state", "to_state"],
    registry=REGISTRY,
)

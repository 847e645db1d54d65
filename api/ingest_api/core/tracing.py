"""OpenTelemetry traces, off unless the standard OTEL_* settings turn them on.

With them on, FastAPI's own telemetry opens a server span for each request,
continuing the W3C `traceparent` a client sent. The request that queues a job
puts its trace context into the job's message (`JobMessage.trace_context`,
kept in the outbox row until the relay adds it to the stream), and the worker
continues that trace: one trace from `POST /v1/jobs/{id}/complete` through
the relay to the job's last write. Log lines carry `trace_id` and `span_id`.

Turned on by OTEL_TRACES_EXPORTER (`otlp` or `console`), or by an OTLP
endpoint (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
while OTEL_TRACES_EXPORTER is unset; never with OTEL_SDK_DISABLED=true. The
SDK reads the rest itself: OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES,
the exporter's endpoint, headers and protocol settings, OTEL_TRACES_SAMPLER
and its argument, OTEL_BSP_* for the batching. Off, every span is the API's
no-op and costs next to nothing.
"""

from __future__ import annotations

import atexit
import os
import sys
from collections.abc import Mapping
from typing import Any, Final

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)

TRACER: Final = trace.get_tracer("ingest_service")
EXPORTERS: Final = frozenset({"otlp", "console"})
PROBE_PATHS: Final = frozenset({"/healthz", "/readyz"})
# The OTEL_* settings this service honours: read here (the first three) or
# by the SDK and its OTLP exporter (the operator renders some of them).
OTEL_SETTINGS: Final = frozenset(
    {
        "OTEL_SDK_DISABLED",
        "OTEL_TRACES_EXPORTER",
        "OTEL_SERVICE_NAME",
        "OTEL_RESOURCE_ATTRIBUTES",
        "OTEL_TRACES_SAMPLER",
        "OTEL_TRACES_SAMPLER_ARG",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
    }
)
_OTLP_ENDPOINTS: Final = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


class UnsupportedExporter(ValueError):
    """OTEL_TRACES_EXPORTER names an exporter this service does not ship."""


def requested_exporter(env: Mapping[str, str]) -> str | None:
    """The span exporter the OTEL_* settings ask for; None: tracing is off."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    named = env.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if named in ("", "none"):
        return "otlp" if not named and any(env.get(k) for k in _OTLP_ENDPOINTS) else None
    if named not in EXPORTERS:
        raise UnsupportedExporter(
            f"OTEL_TRACES_EXPORTER={named!r} is not one of {sorted(EXPORTERS)} or 'none'"
        )
    return named


def configure_tracing(
    default_service_name: str,
    env: Mapping[str, str] = os.environ,
    *,
    exporter: SpanExporter | None = None,
) -> TracerProvider | None:
    """Install the tracer provider the OTEL_* settings ask for (or one that sends
    to `exporter`, for tests); None when tracing stays off."""
    if exporter is None:
        name = requested_exporter(env)
        if name is None:
            return None
        exporter = _exporter(name)
    attributes = {} if env.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: default_service_name}
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def start_tracing(program: str) -> None:
    """At a program's start: tracing as OTEL_* asks, its spans sent at exit;
    exit with a clear message when OTEL_TRACES_EXPORTER names no exporter we ship."""
    try:
        provider = configure_tracing(program)
    except UnsupportedExporter as error:
        sys.exit(f"{program}: invalid configuration:\n  {error}")
    if provider is not None:
        atexit.register(provider.shutdown)


def is_probe(scope: Mapping[str, Any]) -> bool:
    """Probes stay out of the traces: one span per kubelet poll is noise."""
    return scope.get("path") in PROBE_PATHS


def _exporter(name: str) -> SpanExporter:
    if name == "console":
        return ConsoleSpanExporter()
    # Imported only when used: it brings protobuf and an HTTP client along.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


# --- carrying a trace with a job ----------------------------------------------


def current_trace_context() -> dict[str, str]:
    """The current span's context as W3C headers (traceparent, tracestate);
    empty when no span records."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def context_from(carrier: Mapping[str, str]) -> context.Context:
    """The trace context a message carried, to continue its trace."""
    return propagate.extract(dict(carrier))


def add_trace_ids(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    """A structlog processor: the current trace and span ids on every line."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event["trace_id"] = format(span_context.trace_id, "032x")
        event["span_id"] = format(span_context.span_id, "016x")
    return event

"""When the OTEL_* settings turn tracing on, and how a job's message carries
the trace context of the request that queued it."""

from __future__ import annotations

import uuid

import pytest

from ingest_api.core.tracing import UnsupportedExporter, requested_exporter
from ingest_api.queue.schemas import JobMessage

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


@pytest.mark.parametrize(
    ("env", "exporter"),
    [
        ({}, None),
        ({"OTEL_TRACES_EXPORTER": "none"}, None),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, "otlp"),
        ({"OTEL_TRACES_EXPORTER": " Console "}, "console"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "otlp"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, "otlp"),
        # An endpoint alone does not override an explicit "none".
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, None),
        ({"OTEL_TRACES_EXPORTER": "otlp", "OTEL_SDK_DISABLED": "true"}, None),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "TRUE"}, None),
    ],
)
def test_tracing_is_off_unless_the_otel_settings_ask(
    env: dict[str, str], exporter: str | None
) -> None:
    assert requested_exporter(env) == exporter


def test_an_exporter_we_do_not_ship_is_refused_by_name() -> None:
    with pytest.raises(UnsupportedExporter, match="zipkin"):
        requested_exporter({"OTEL_TRACES_EXPORTER": "zipkin"})


def test_the_message_carries_the_trace_context_through_the_stream_fields() -> None:
    context = {"traceparent": TRACEPARENT, "tracestate": "vendor=1"}
    message = JobMessage.for_job(uuid.uuid4(), request_id="r1", attempt=2, trace_context=context)

    fields = message.to_fields()

    assert fields["traceparent"] == TRACEPARENT
    assert JobMessage.from_fields(fields).trace_context == context


def test_without_tracing_the_message_has_no_trace_fields() -> None:
    message = JobMessage.for_job(uuid.uuid4(), request_id=None, attempt=1, trace_context={})
    assert set(message.to_fields()) == {"job_id", "attempt"}

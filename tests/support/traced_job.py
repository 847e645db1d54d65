"""One job through the API and a worker in one process whose tracer provider
sends to the SDK's in-memory exporter; prints the spans as JSON lines.

Run by tests/integration/worker/test_tracing.py in a process of its own: a
process's tracer provider is set once, and the test suite's must stay unset.
Configured by the environment (the test's settings).

    python -m tests.support.traced_job TRACEPARENT
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.testclient import TestClient

from ingest_api.app import create_app
from ingest_api.core.config import Settings, get_settings
from ingest_api.core.logging import configure_logging
from ingest_api.core.tracing import configure_tracing
from ingest_api.queue.consumer import CONSUMER_GROUP, StreamConsumer, dead_letter_stream
from ingest_api.runtime import Runtime
from ingest_api.worker.consuming import MessageHandler
from tests.support.api import admin, create_job, upload

BODY = b'{"level": "info", "msg": "traced"}\n{"level": "error", "msg": "again"}\n'


def queue_a_job(settings: Settings, traceparent: str) -> str:
    """Create, upload and complete a job, the completion inside the client's trace;
    return once the relay has added its message to the stream."""
    with TestClient(create_app(settings)) as client:
        user = admin(client)
        job = create_job(client, user, BODY)
        assert upload(job, BODY).status_code == 204
        completed = client.post(
            f"/v1/jobs/{job['id']}/complete",
            headers={**user.headers, "traceparent": traceparent},
        )
        assert completed.status_code == 200, completed.text
        deadline = time.monotonic() + 10
        while not _stream_length(settings):
            assert time.monotonic() < deadline, "the relay never added the message"
            time.sleep(0.05)
    return str(job["id"])


def _stream_length(settings: Settings) -> int:
    import redis

    with redis.Redis.from_url(settings.redis_url) as conn:
        return int(conn.xlen(settings.queue_stream))


async def process_the_message(settings: Settings) -> None:
    """What a worker's consumer loop does with the one message waiting."""
    runtime = Runtime.from_settings(settings)
    consumer = StreamConsumer(
        runtime.redis,
        stream=settings.queue_stream,
        group=CONSUMER_GROUP,
        consumer="traced",
        dead_letter_stream=dead_letter_stream(settings.queue_stream),
        reclaim_idle_ms=60_000,
    )
    try:
        await consumer.ensure_group()
        (delivery,) = await consumer.read_new(count=1)
        handler = MessageHandler(runtime, consumer, name="traced", hard_stop=threading.Event())
        await handler.handle(delivery)
    finally:
        await runtime.close()


def as_json(span: ReadableSpan) -> str:
    context = span.get_span_context()
    assert context is not None
    return json.dumps(
        {
            "name": span.name,
            "trace_id": format(context.trace_id, "032x"),
            "span_id": format(context.span_id, "016x"),
            "parent_id": format(span.parent.span_id, "016x") if span.parent else None,
            "kind": span.kind.name,
            "attributes": {key: str(value) for key, value in (span.attributes or {}).items()},
        }
    )


def main() -> None:
    exporter = InMemorySpanExporter()
    provider = configure_tracing("traced-job", {}, exporter=exporter)
    assert isinstance(provider, TracerProvider)
    settings = get_settings()
    configure_logging(settings.log_level, settings.effective_log_format)
    queue_a_job(settings, sys.argv[1])
    asyncio.run(process_the_message(settings))
    provider.force_flush()
    for span in exporter.get_finished_spans():
        print(as_json(span))


if __name__ == "__main__":
    main()

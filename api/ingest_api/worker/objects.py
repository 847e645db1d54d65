"""Process one job's uploaded object: read exactly the verified object from
the bucket, run the pipeline, stream the normalised records back as gzip
NDJSON (multipart).

The wiring between `processing` (pure: bytes in, records out) and the
object store. Blocking by design: the worker runs it in a thread, since
parsing is CPU work. The download and the upload each run beside the
parser, in a thread of their own (`processing.overlapping`). The output key
is derived from the job id alone, so processing the same message twice
overwrites the same object with the same bytes.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ingest_api.core.metrics import (
    WORKER_BYTES,
    WORKER_INPUT_BYTES,
    WORKER_LINES,
    WORKER_OUTPUT_BYTES,
    WORKER_PROCESSING_SECONDS,
)
from ingest_api.core.tracing import TRACER
from ingest_api.processing import process_stream
from ingest_api.processing.errors import ProcessingError
from ingest_api.processing.models import Limits
from ingest_api.processing.overlapping import BackgroundSink
from ingest_api.storage.keys import result_key
from ingest_api.storage.multipart import MultipartWriter
from ingest_api.storage.service import ObjectStore, error_code

READ_CHUNK_BYTES = 1024 * 1024
OUTPUT_CONTENT_TYPE = "application/gzip"


class MissingObject(ProcessingError):
    code = "missing_object"


class ObjectReplaced(ProcessingError):
    code = "object_replaced"


class Stopped(Exception):
    """Processing was asked to stop (the job was cancelled, or shutdown)."""


@dataclass(frozen=True)
class ObjectToProcess:
    """One job's upload, as `/complete` verified it."""

    job_id: uuid.UUID
    key: str
    etag: str | None
    version: str | None
    sha256: str | None
    reference_time: datetime


@dataclass(frozen=True)
class ProcessedFile:
    summary: dict[str, Any]
    output_key: str
    output_bytes: int


def _chunks(body: Any, should_stop: Callable[[], bool]) -> Iterator[bytes]:
    for chunk in body.iter_chunks(READ_CHUNK_BYTES):
        if should_stop():
            raise Stopped
        WORKER_BYTES.inc(len(chunk))
        yield chunk


def open_verified(store: ObjectStore, upload: ObjectToProcess) -> Any:
    """A reader of exactly the object `/complete` verified; a permanent error
    when it is gone or was replaced since."""
    try:
        return store.open_object(key=upload.key, etag=upload.etag, version=upload.version)
    except ClientError as error:
        code = error_code(error)
        if code in {"NoSuchKey", "404", "NoSuchVersion"}:
            raise MissingObject(
                f"the uploaded file is no longer in the bucket (key {upload.key}); "
                "upload it again in a new job"
            ) from error
        if code in {"PreconditionFailed", "412"}:
            raise ObjectReplaced(
                f"the uploaded file was replaced after it was verified (key {upload.key}); "
                "it is processed only if you retry the job, which verifies it again"
            ) from error
        raise


def count_processed(result: dict[str, Any], output_bytes: int, *, seconds: float) -> None:
    """One file processed to the end, in the worker's metrics."""
    file_format = str(result["format"])
    WORKER_LINES.inc(int(result["lines"]))
    WORKER_INPUT_BYTES.labels(format=file_format).inc(int(result["bytes_in"]))
    WORKER_OUTPUT_BYTES.labels(format=file_format).inc(output_bytes)
    WORKER_PROCESSING_SECONDS.labels(format=file_format).observe(seconds)


def process_object(
    store: ObjectStore,
    upload: ObjectToProcess,
    *,
    limits: Limits,
    should_stop: Callable[[], bool],
) -> ProcessedFile:
    """Read the verified upload, write the result next to it, return the summary."""
    started = time.perf_counter()
    body = open_verified(store, upload)
    output_key = result_key(upload.job_id)
    try:
        writer = MultipartWriter(store.client, store.bucket, output_key, OUTPUT_CONTENT_TYPE)
        try:
            # Parts are uploaded beside the parsing, by the sink's thread; the
            # upload span covers what is left once the input is read.
            with (
                TRACER.start_as_current_span("process file"),
                BackgroundSink(writer.write) as upload_part,
            ):
                summary = process_stream(
                    _chunks(body, should_stop),
                    upload_part,
                    limits=limits,
                    reference_time=upload.reference_time,
                    expected_sha256=upload.sha256,
                )
            with TRACER.start_as_current_span("upload result"):
                size = writer.complete()
        except BaseException:
            # Best effort: the original error is the one to report, and the
            # bucket's lifecycle rule removes an upload left incomplete.
            with contextlib.suppress(Exception):
                writer.abort()
            raise
    finally:
        body.close()
    result = summary.to_dict()
    count_processed(result, size, seconds=time.perf_counter() - started)
    return ProcessedFile(summary=result, output_key=output_key, output_bytes=size)

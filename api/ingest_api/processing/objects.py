"""Process one job's uploaded object: read it from the bucket, run the
pipeline, stream the normalised records back as gzip NDJSON (multipart).

Blocking by design: the worker runs it in a thread, since parsing is CPU
work. The download and the upload each run beside the parser, in a thread
of their own (`overlapping`), so the parser does not wait on the network.
The output key is derived from the job id alone, so processing the same
message twice overwrites the same object with the same bytes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ingest_api.core.metrics import WORKER_BYTES, WORKER_LINES, WORKER_PROCESSING_SECONDS
from ingest_api.processing import process_stream
from ingest_api.processing.errors import ProcessingError
from ingest_api.processing.models import Limits
from ingest_api.processing.overlapping import BackgroundSink
from ingest_api.storage.service import ObjectStore

READ_CHUNK_BYTES = 1024 * 1024
OUTPUT_CONTENT_TYPE = "application/gzip"


class MissingObject(ProcessingError):
    code = "missing-object"


class Stopped(Exception):
    """Processing was asked to stop (the job was cancelled, or shutdown)."""


@dataclass(frozen=True)
class ProcessedFile:
    summary: dict[str, Any]
    output_key: str
    output_bytes: int


def output_key_for(job_id: uuid.UUID) -> str:
    return f"results/{job_id}.ndjson.gz"


def _chunks(body: Any, should_stop: Callable[[], bool]) -> Iterator[bytes]:
    for chunk in body.iter_chunks(READ_CHUNK_BYTES):
        if should_stop():
            raise Stopped
        WORKER_BYTES.inc(len(chunk))
        yield chunk


def process_object(
    store: ObjectStore,
    *,
    job_id: uuid.UUID,
    object_key: str,
    limits: Limits,
    reference_time: datetime,
    should_stop: Callable[[], bool],
) -> ProcessedFile:
    """Read `object_key`, write the result next to it, return the summary."""
    started = time.perf_counter()
    try:
        body = store.open_object(key=object_key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
            raise MissingObject(
                f"the uploaded file is no longer in the bucket (key {object_key}); upload it again"
            ) from error
        raise
    output_key = output_key_for(job_id)
    writer = store.start_multipart(key=output_key, content_type=OUTPUT_CONTENT_TYPE)
    try:
        with BackgroundSink(writer.write) as upload_part:
            summary = process_stream(
                _chunks(body, should_stop),
                upload_part,
                limits=limits,
                reference_time=reference_time,
            )
        size = writer.complete()
    except BaseException:
        writer.abort()
        raise
    finally:
        body.close()
    result = summary.to_dict()
    WORKER_LINES.inc(int(result.get("lines", 0)))
    WORKER_PROCESSING_SECONDS.observe(time.perf_counter() - started)
    return ProcessedFile(summary=result, output_key=output_key, output_bytes=size)

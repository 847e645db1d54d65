"""Waiting out an unreachable dependency, step by step (`worker.consuming`).

A step of a job (a database write, the object store, Redis) whose dependency
is down is tried again with backoff, for as long as the outage lasts: an
outage never counts against the file. Meanwhile the message's claim is kept,
so no other worker takes the job over; a shutdown ends the wait (`Stopped`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ingest_api.core.logging import get_logger
from ingest_api.core.metrics import WORKER_DEPENDENCY_WAITS
from ingest_api.worker.failures import Transient, classify
from ingest_api.worker.objects import Stopped

log = get_logger(__name__)

T = TypeVar("T")

# Waits between tries of a step whose dependency is unreachable: soon at
# first, then no more often than this while an outage lasts.
FIRST_RETRY_SECONDS = 0.5
MAX_RETRY_SECONDS = 15.0


async def retry_while_unreachable(
    step: Callable[[], Awaitable[T]],
    *,
    keep_claim: Callable[[], Awaitable[None]],
    hard_stop: threading.Event,
) -> T:
    """`step()`, tried again with backoff for as long as a dependency is
    unreachable, with `keep_claim()` between tries; Stopped when the worker
    must stop first. Every other error passes through."""
    wait = FIRST_RETRY_SECONDS
    while True:
        try:
            return await step()
        except Exception as error:
            failure = classify(error)
            if not isinstance(failure, Transient):
                raise  # the file's (ProcessingError) or ours: the caller's to handle
            WORKER_DEPENDENCY_WAITS.labels(dependency=failure.dependency).inc()
            log.warning(
                "a dependency is unreachable; retrying",
                dependency=failure.dependency,
                error=type(error).__name__,
                retry_in_seconds=wait,
            )
        # The flag is a threading.Event (the processing thread reads it), so
        # it is waited on in a thread: only while a dependency is down.
        if await asyncio.to_thread(hard_stop.wait, wait):
            raise Stopped
        with contextlib.suppress(Exception):  # Redis may be the one that is down
            await keep_claim()
        wait = min(wait * 2, MAX_RETRY_SECONDS)

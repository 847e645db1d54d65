"""Gathering concurrent requests for the same work into one call: group commit.

Under load, many requests wait on the database at once, each for a
statement of its own, and the per-statement cost (a round trip, the
driver's bookkeeping, the event loop's wake-ups, the server's parse and
commit) dominates. A `Batcher` sends what arrived while the previous batch
was in flight as the next batch, in one call. Nothing waits for a batch to
fill: a submission that finds no batch in flight starts one at the next
turn of the event loop, with whatever else arrived in that turn. A quiet
service pays that hop through a task (some tens of us); a busy one makes
fewer, larger statements. (Running a lone submission in its own task, to
spare the hop, was measured: under load it halved the batches and cost
more CPU per item than it saved.)
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from ingest_api.core.errors import DependencyUnavailable

In = TypeVar("In")
Out = TypeVar("Out")


def may_be_one_items_fault(error: Exception) -> bool:
    """Whether a failed batch is worth running again an item at a time. Not
    when a dependency is unavailable: that fails every item alike, and run one
    by one, each would only wait through the retries again."""
    return not isinstance(error, DependencyUnavailable)


class Batcher(Generic[In, Out]):
    """Runs `run_batch(items)`, which must return one result per item, in order,
    for items submitted concurrently, `max_size` at a time, with at most
    `max_in_flight` batches running at once.

    When a batch of several items fails and `isolate(error)` says the error
    may belong to one item (rather than to the database as a whole), each of
    its items is run again on its own, so one bad item fails alone."""

    def __init__(
        self,
        run_batch: Callable[[Sequence[In]], Awaitable[Sequence[Out]]],
        *,
        max_size: int = 64,
        max_in_flight: int = 1,
        isolate: Callable[[Exception], bool] = may_be_one_items_fault,
    ) -> None:
        if max_size < 1 or max_in_flight < 1:
            raise ValueError("max_size and max_in_flight must be at least 1")
        self._run_batch = run_batch
        self._max_size = max_size
        self._max_in_flight = max_in_flight
        self._isolate = isolate
        self._waiting: list[tuple[In, asyncio.Future[Out]]] = []
        self._in_flight = 0
        self._flushers: set[asyncio.Task[None]] = set()

    async def submit(self, item: In) -> Out:
        """The result of `item`'s part in a batch (or the batch's error)."""
        future: asyncio.Future[Out] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        self._start_flusher()
        return await future

    async def aclose(self) -> None:
        """Wait for the batches in flight (the service is stopping)."""
        while self._flushers:
            await asyncio.gather(*self._flushers, return_exceptions=True)

    def _start_flusher(self) -> None:
        if self._waiting and self._in_flight < self._max_in_flight:
            self._in_flight += 1
            # A fresh context: the batch serves many requests, so what it logs
            # must not carry the request id of the one that happened to start it.
            flusher = asyncio.create_task(self._flush(), context=contextvars.Context())
            self._flushers.add(flusher)
            flusher.add_done_callback(self._flushers.discard)

    async def _flush(self) -> None:
        # The batch is taken when the flusher first runs, not when it was
        # started: what arrived meanwhile, in the same turn of the event
        # loop, rides along.
        try:
            while self._waiting:
                batch = self._waiting[: self._max_size]
                del self._waiting[: self._max_size]
                try:
                    await self._settle(batch)
                except asyncio.CancelledError:  # nobody may wait forever
                    for _, future in batch:
                        if not future.done():
                            future.cancel()
                    raise
        finally:
            self._in_flight -= 1

    async def _settle(self, batch: list[tuple[In, asyncio.Future[Out]]]) -> None:
        try:
            results = await self._run_batch([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"a batch of {len(batch)} items had {len(results)} results")
        except Exception as error:
            if len(batch) > 1 and self._isolate(error):
                for entry in batch:
                    await self._settle([entry])
                return
            for _, future in batch:
                if not future.done():  # a waiter that gave up is skipped
                    future.set_exception(error)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

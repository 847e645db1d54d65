"""Reconcile a resource again later, without holding up anything else in the meantime.

This is controller-runtime's RequeueAfter. kopf's own retry,
TemporaryError(delay=...), parks the resource's handlers until the delay
ends, and kopf runs no handler of that resource before then: a spec change
made while a migration Job runs (polled every 30 s) or while a missing
Secret is awaited (backing off up to 5 minutes) would wait that long, as
the operator tests showed. So waiting is scheduled here, on the side, and
every change still reconciles at once; TemporaryError is kept for failed
API requests (handlers.py).

One thread keeps the schedule and hands each due key to `request`, which
must return at once (Runtime.submit queues the reconciliation on its pool).
"""

from __future__ import annotations

import heapq
import logging
import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

logger = logging.getLogger(__name__)

_Key = TypeVar("_Key", bound=Hashable)


class Requeuer(Generic[_Key]):
    """Calls `request(key)` once each scheduled delay has passed."""

    def __init__(self, request: Callable[[_Key], object]) -> None:
        self._request = request
        # key -> when it is due; the heap may hold stale entries, this is the truth.
        self._due: dict[_Key, float] = {}
        self._heap: list[tuple[float, int, _Key]] = []
        self._sequence = 0
        self._changed = threading.Condition()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="requeuer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._changed:
            self._stopping = True
            self._changed.notify_all()

    def schedule(self, key: _Key, delay: float) -> None:
        """Reconcile `key` in `delay` seconds; replaces what was scheduled for it before."""
        due = time.monotonic() + delay
        with self._changed:
            self._due[key] = due
            self._sequence += 1
            # The sequence number breaks ties, so keys themselves are never compared.
            heapq.heappush(self._heap, (due, self._sequence, key))
            self._changed.notify_all()

    def schedule_soon(self, key: _Key, delay: float) -> None:
        """Request `key` in `delay` seconds, unless it is due sooner already.

        Requests within the delay fold into one, and a stream of them cannot
        postpone it: the first one's time holds.
        """
        with self._changed:
            due = self._due.get(key)
        if due is None or due > time.monotonic() + delay:
            self.schedule(key, delay)

    def cancel(self, key: _Key) -> None:
        with self._changed:
            self._due.pop(key, None)

    def alive(self) -> bool:
        return self._thread.is_alive()

    def pending(self, key: _Key) -> bool:
        with self._changed:
            return key in self._due

    def _run(self) -> None:
        while True:
            with self._changed:
                key = self._wait_for_next()
                if key is None:
                    return
            try:
                self._request(key)
            except Exception:
                # One failed request must not stop every later requeue.
                logger.exception("requeueing %s failed", key)

    def _wait_for_next(self) -> _Key | None:
        """The next due key (the caller holds the lock); None once stopping."""
        while not self._stopping:
            if not self._heap:
                self._changed.wait()
                continue
            due, _, key = self._heap[0]
            if self._due.get(key) != due:
                heapq.heappop(self._heap)  # rescheduled or cancelled since
                continue
            remaining = due - time.monotonic()
            if remaining > 0:
                self._changed.wait(remaining)
                continue
            heapq.heappop(self._heap)
            del self._due[key]
            return key
        return None

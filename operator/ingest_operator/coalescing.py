"""One reconciliation at a time per IngestService, with bursts folded into one rerun.

kopf serialises the events of one object, but an IngestService is also
reconciled from its children's and its Secrets' events, which kopf handles
in other threads. Two reconciliations of one resource at once would race on
its status and its migration Job; one per child event would reconcile seven
times for one change. This gate, like controller-runtime's work queue,
runs at most one reconciliation per key and folds every request that
arrives meanwhile into a single rerun, which reads the latest state anyway.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import TypeVar

_T = TypeVar("_T")


@dataclass
class _KeyState:
    running: bool = False
    # A request arrived while running: run once more before letting go.
    rerun: bool = False
    idle: threading.Condition = field(default_factory=threading.Condition)


class ReconcileGate:
    """Serialises the reconciliations of each key and coalesces requests."""

    def __init__(self) -> None:
        self._states: dict[Hashable, _KeyState] = {}
        self._states_lock = threading.Lock()

    def run(self, key: Hashable, reconcile: Callable[[], _T]) -> _T:
        """Wait for the key's running reconciliation, then reconcile; return its result."""
        state = self._state(key)
        with state.idle:
            state.idle.wait_for(lambda: not state.running)
            state.running = True
            state.rerun = False
        return self._drain(state, reconcile)

    def request(self, key: Hashable, reconcile: Callable[[], object]) -> bool:
        """Reconcile now, or have the running reconciliation run once more.

        True when this call reconciled; False when it left the work to the
        reconciliation already running.
        """
        state = self._state(key)
        with state.idle:
            if state.running:
                state.rerun = True
                return False
            state.running = True
        self._drain(state, reconcile)
        return True

    def forget(self, key: Hashable) -> None:
        """Drop the key's bookkeeping (its resource is gone)."""
        with self._states_lock:
            state = self._states.get(key)
            if state is not None and not state.running:
                del self._states[key]

    def _drain(self, state: _KeyState, reconcile: Callable[[], _T]) -> _T:
        try:
            while True:
                result = reconcile()
                with state.idle:
                    if not state.rerun:
                        return result
                    state.rerun = False
        finally:
            with state.idle:
                state.running = False
                state.idle.notify_all()

    def _state(self, key: Hashable) -> _KeyState:
        with self._states_lock:
            return self._states.setdefault(key, _KeyState())

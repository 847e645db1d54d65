"""The reconcile gate: one reconciliation per key at a time, bursts folded into one rerun."""

from __future__ import annotations

import threading

import pytest

from ingest_operator.coalescing import ReconcileGate


class Blocking:
    """A reconciliation that waits until the test lets it finish, counting its runs."""

    def __init__(self) -> None:
        self.runs = 0
        self.started = threading.Event()
        self.release = threading.Event()

    def __call__(self) -> int:
        self.runs += 1
        self.started.set()
        assert self.release.wait(5)
        return self.runs


def in_thread(target: object) -> threading.Thread:
    thread = threading.Thread(target=target)  # type: ignore[arg-type]
    thread.start()
    return thread


def test_requests_during_a_run_fold_into_exactly_one_rerun() -> None:
    gate = ReconcileGate()
    reconcile = Blocking()
    first = in_thread(lambda: gate.request("shop", reconcile))
    assert reconcile.started.wait(5)

    left_to_the_running_one = [gate.request("shop", reconcile) for _ in range(5)]
    reconcile.release.set()
    first.join(5)

    assert left_to_the_running_one == [False] * 5
    assert reconcile.runs == 2


def test_run_waits_for_the_running_reconciliation_and_returns_its_own_result() -> None:
    gate = ReconcileGate()
    reconcile = Blocking()
    first = in_thread(lambda: gate.request("shop", reconcile))
    assert reconcile.started.wait(5)
    results: list[int] = []

    second = in_thread(lambda: results.append(gate.run("shop", reconcile)))
    second.join(0.2)
    assert second.is_alive(), "run() did not wait for the running reconciliation"
    reconcile.release.set()
    first.join(5)
    second.join(5)

    assert results == [2]
    assert reconcile.runs == 2


def test_different_keys_do_not_wait_for_each_other() -> None:
    gate = ReconcileGate()
    slow = Blocking()
    first = in_thread(lambda: gate.request("shop", slow))
    assert slow.started.wait(5)

    assert gate.run("other", lambda: "done") == "done"
    slow.release.set()
    first.join(5)


def test_an_error_frees_the_key_for_the_next_reconciliation() -> None:
    gate = ReconcileGate()

    def failing() -> None:
        raise RuntimeError("the API server is away")

    with pytest.raises(RuntimeError):
        gate.run("shop", failing)

    assert gate.run("shop", lambda: "recovered") == "recovered"
    gate.forget("shop")
    assert gate.request("shop", lambda: None) is True

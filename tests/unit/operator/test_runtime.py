"""The runtime outlives what goes wrong in one reconciliation: an unexpected exception
is logged with its traceback and the resource is tried again, not lost.

The reconciler here is a stand-in: a bug in the reconciler (or a reply no client
could parse) cannot be produced on purpose against the real API server.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import cast

import pytest

from ingest_operator.config import load_config
from ingest_operator.kube import KubeClient
from ingest_operator.reconciling import Outcome, Reconciler, Result
from ingest_operator.runtime import Runtime
from tests.support.cluster import wait_for

KEY = ("team-a", "shop")


class FailsOnce:
    """Raises a ValueError the first time, then reconciles."""

    def __init__(self) -> None:
        self.calls = 0
        self.done = threading.Event()

    def reconcile(self, namespace: str, name: str) -> Outcome:
        self.calls += 1
        if self.calls == 1:
            raise ValueError("Expecting value: line 1 column 1 (char 0)")
        self.done.set()
        return Outcome(Result.READY, "Available")


@pytest.fixture
def runtime() -> Iterator[Runtime]:
    config = load_config({"RESYNC_SECONDS": "0"})
    reconciler = cast(Reconciler, FailsOnce())
    runtime = Runtime(config=config, kube=cast(KubeClient, None), reconciler=reconciler)
    runtime.start()
    yield runtime
    runtime.stop()


def test_an_unexpected_error_is_logged_and_the_resource_tried_again(
    runtime: Runtime, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first back-off is 5 s; a test need not wait it out.
    monkeypatch.setattr("ingest_operator.runtime.requeue_delay", lambda *_: 0.05)
    reconciler = cast(FailsOnce, runtime.reconciler)

    with caplog.at_level(logging.ERROR, logger="ingest_operator.runtime"):
        runtime.submit(*KEY, trigger="test")
        wait_for(reconciler.done.is_set, timeout=5, message="the resource is reconciled again")

    assert reconciler.calls == 2
    (record,) = [r for r in caplog.records if "failed unexpectedly" in r.getMessage()]
    assert record.exc_info is not None
    assert record.exc_info[0] is ValueError


def test_health_reports_a_dead_requeuer(runtime: Runtime) -> None:
    assert "seconds_since_resync" in runtime.check_health()

    runtime.requeuer.stop()
    wait_for(lambda: not runtime.requeuer.alive(), timeout=5, message="the requeuer stops")

    with pytest.raises(RuntimeError, match="requeuer"):
        runtime.check_health()

"""The requeuer reconciles each key once its delay has passed, the latest schedule winning."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from ingest_operator.requeueing import Requeuer


class Recorder:
    def __init__(self) -> None:
        self.keys: list[str] = []
        self.called = threading.Event()

    def __call__(self, key: str) -> None:
        self.keys.append(key)
        self.called.set()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def requeuer(recorder: Recorder) -> Iterator[Requeuer[str]]:
    requeuer: Requeuer[str] = Requeuer(recorder)
    requeuer.start()
    yield requeuer
    requeuer.stop()


def test_a_key_is_requested_once_its_delay_has_passed(
    requeuer: Requeuer[str], recorder: Recorder
) -> None:
    started = time.monotonic()
    requeuer.schedule("shop", 0.2)

    assert recorder.called.wait(2)
    assert time.monotonic() - started >= 0.2
    assert recorder.keys == ["shop"]
    assert not requeuer.pending("shop")


def test_a_new_schedule_replaces_the_earlier_one(
    requeuer: Requeuer[str], recorder: Recorder
) -> None:
    requeuer.schedule("shop", 0.1)
    requeuer.schedule("shop", 0.4)

    time.sleep(0.25)
    assert recorder.keys == []
    assert recorder.called.wait(2)
    time.sleep(0.2)
    assert recorder.keys == ["shop"]


def test_a_cancelled_key_is_not_requested(requeuer: Requeuer[str], recorder: Recorder) -> None:
    requeuer.schedule("shop", 0.1)
    requeuer.cancel("shop")
    requeuer.schedule("other", 0.2)

    assert recorder.called.wait(2)
    time.sleep(0.1)
    assert recorder.keys == ["other"]


def test_keys_come_due_in_the_order_of_their_delays(
    requeuer: Requeuer[str], recorder: Recorder
) -> None:
    requeuer.schedule("late", 0.3)
    requeuer.schedule("early", 0.1)

    time.sleep(0.6)
    assert recorder.keys == ["early", "late"]


def test_requests_within_the_delay_fold_into_one_and_cannot_postpone_it(
    requeuer: Requeuer[str], recorder: Recorder
) -> None:
    requeuer.schedule_soon("shop", 0.2)
    requeuer.schedule_soon("shop", 0.2)
    assert recorder.called.wait(timeout=5)
    time.sleep(0.3)
    assert recorder.keys == ["shop"]  # two requests, one call

    # A stream of requests longer than the delay: the first one's time holds,
    # so a call comes while the stream still flows.
    recorder.called.clear()
    for _ in range(20):
        requeuer.schedule_soon("orders", 0.2)
        time.sleep(0.05)
    assert recorder.called.is_set()


def test_a_sooner_request_brings_a_later_schedule_forward(
    requeuer: Requeuer[str], recorder: Recorder
) -> None:
    requeuer.schedule("shop", 30)  # a back-off

    requeuer.schedule_soon("shop", 0.05)  # an event

    assert recorder.called.wait(timeout=5)
    assert recorder.keys == ["shop"]

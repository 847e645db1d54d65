"""A worker whose every read of the stream has failed for a while says it
is unhealthy; one good read makes it healthy again."""

from __future__ import annotations

from ingest_api.worker.health import ReadingHealth


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_failing_reads_are_unhealthy_only_past_the_limit() -> None:
    clock = Clock()
    reading = ReadingHealth(unhealthy_after=10, clock=clock)
    reading.read_failed()
    clock.now += 9
    reading.read_failed()  # the streak started at the first failure
    assert reading.problem() is None
    clock.now += 2
    assert reading.problem() == "cannot read the job stream for 11 s"


def test_one_good_read_ends_the_streak() -> None:
    clock = Clock()
    reading = ReadingHealth(unhealthy_after=10, clock=clock)
    reading.read_failed()
    clock.now += 30
    reading.read_succeeded()
    assert reading.problem() is None
    reading.read_failed()
    clock.now += 5
    assert reading.problem() is None

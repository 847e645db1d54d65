"""The helper threads of the pipeline: order kept, errors raised where the
caller is, and no thread left behind however the caller leaves."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from itertools import count

import pytest

from ingest_api.processing import process_stream
from ingest_api.processing.errors import NotText
from ingest_api.processing.overlapping import BackgroundSink, read_ahead

REFERENCE_TIME = datetime(2024, 12, 31, tzinfo=UTC)


def helper_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith("ingest-")]


class SourceFailed(Exception):
    pass


def test_read_ahead_yields_every_item_in_order() -> None:
    assert list(read_ahead(range(1000), depth=3)) == list(range(1000))
    assert helper_threads() == []


def test_read_ahead_raises_the_sources_own_error_after_the_items_before_it() -> None:
    error = SourceFailed("the connection dropped")

    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise error

    seen: list[int] = []

    def consume() -> None:
        for item in read_ahead(source()):
            seen.append(item)

    with pytest.raises(SourceFailed) as raised:
        consume()
    assert raised.value is error
    assert seen == [1, 2]
    assert helper_threads() == []


def test_closing_early_stops_an_endless_source_and_runs_its_clean_up() -> None:
    cleaned_up = threading.Event()

    def endless() -> Iterator[int]:
        try:
            yield from count()
        finally:
            cleaned_up.set()

    with closing(read_ahead(endless(), depth=2)) as items:
        assert [next(items) for _ in range(5)] == [0, 1, 2, 3, 4]
    # The producer was blocked on a full queue; closing must still end it.
    assert cleaned_up.is_set()
    assert helper_threads() == []


def test_the_pipeline_leaves_no_thread_behind_when_the_source_fails() -> None:
    def source() -> Iterator[bytes]:
        yield gzip.compress(b'{"msg": "one"}\n' * 50_000)
        raise SourceFailed("reset by peer")

    with pytest.raises(SourceFailed):
        process_stream(source(), lambda part: None, reference_time=REFERENCE_TIME)
    assert helper_threads() == []


def test_the_pipeline_leaves_no_thread_behind_when_the_parser_refuses_the_file() -> None:
    binary = bytes(range(256)) * 4096
    with pytest.raises(NotText):
        process_stream([binary, binary], lambda part: None, reference_time=REFERENCE_TIME)
    assert helper_threads() == []


def test_background_sink_hands_every_item_on_in_order() -> None:
    received: list[int] = []
    with BackgroundSink(received.append, depth=2) as sink:
        for item in range(100):
            sink(item)
    assert received == list(range(100))
    assert helper_threads() == []


def test_background_sink_raises_the_sinks_error_at_the_next_call() -> None:
    error = SourceFailed("upload refused")
    refused = threading.Event()

    def refuse(item: int) -> None:
        refused.set()
        raise error

    def feed(sink: BackgroundSink[int]) -> None:
        sink(1)
        assert refused.wait(5)
        sink(2)

    with pytest.raises(SourceFailed) as raised, BackgroundSink(refuse) as sink:
        feed(sink)
    assert raised.value is error
    assert helper_threads() == []


def test_background_sink_raises_the_sinks_error_at_the_end_of_the_block() -> None:
    error = SourceFailed("upload refused")

    def refuse(item: int) -> None:
        raise error

    with pytest.raises(SourceFailed) as raised, BackgroundSink(refuse) as sink:
        sink(1)
    assert raised.value is error


def test_background_sink_drops_waiting_items_when_the_block_fails() -> None:
    received: list[int] = []

    def slow(item: int) -> None:
        threading.Event().wait(1)  # long enough for the block to fail meanwhile
        received.append(item)

    def fail_with_an_item_waiting(sink: BackgroundSink[int]) -> None:
        sink(1)  # taken by the thread, which is slow with it
        sink(2)  # returns once 1 was taken; waits in the queue
        raise SourceFailed("the parser failed")

    with pytest.raises(SourceFailed), BackgroundSink(slow, depth=1) as sink:
        fail_with_an_item_waiting(sink)
    assert received == [1]
    assert helper_threads() == []

"""The worker's garbage collector settings: startup's objects frozen, young
collections rarer, and cycles still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from ingest_api.worker.collector import YOUNG_THRESHOLD, tune_for_processing


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_collector")
def test_young_collections_are_rarer_and_startup_is_frozen() -> None:
    before = gc.get_threshold()

    tune_for_processing()

    assert gc.get_threshold() == (YOUNG_THRESHOLD, *before[1:])
    assert gc.get_freeze_count() > 0


@pytest.mark.usefixtures("restored_collector")
def test_cycles_made_after_tuning_are_still_collected() -> None:
    tune_for_processing()

    class Node:
        other: object = None

    first, second = Node(), Node()
    first.other, second.other = second, first
    gone = weakref.ref(first)
    del first, second
    gc.collect()

    assert gone() is None

"""The Batcher (core.batching): concurrent submissions go out together, each
waiter gets its own result, and one bad item fails alone."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import pytest

from ingest_api.core.batching import Batcher
from ingest_api.core.errors import DependencyUnavailable

T = TypeVar("T")


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(asyncio.wait_for(scenario(), timeout=5))


class Doubler:
    """A batch function that records its batches and may be held at a gate."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.tasks: list[asyncio.Task[object] | None] = []
        self.running = 0
        self.most_running = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, items: Sequence[int]) -> list[int]:
        self.batches.append(list(items))
        self.tasks.append(asyncio.current_task())
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        try:
            await asyncio.sleep(0)  # a batch always takes a turn of the loop
            await self.gate.wait()
            if any(item < 0 for item in items):
                raise ValueError(f"negative item in {list(items)}")
            return [item * 2 for item in items]
        finally:
            self.running -= 1


def test_a_lone_submission_is_sent_at_once_as_a_batch_of_one() -> None:
    async def scenario() -> tuple[int, list[list[int]]]:
        doubler = Doubler()
        result = await Batcher(doubler).submit(21)
        return result, doubler.batches

    assert run(scenario) == (42, [[21]])


def test_what_arrives_while_a_batch_runs_goes_out_together_next() -> None:
    async def scenario() -> tuple[list[int], list[list[int]]]:
        doubler = Doubler()
        batcher = Batcher(doubler)
        doubler.gate.clear()
        first = asyncio.create_task(batcher.submit(1))
        await asyncio.sleep(0.01)  # the first batch is in flight, held at the gate
        rest = [asyncio.create_task(batcher.submit(n)) for n in (2, 3, 4)]
        await asyncio.sleep(0.01)
        doubler.gate.set()
        results = await asyncio.gather(first, *rest)
        return results, doubler.batches

    results, batches = run(scenario)
    assert results == [2, 4, 6, 8]
    assert batches == [[1], [2, 3, 4]]


def test_submissions_that_arrive_together_share_a_batch() -> None:
    async def scenario() -> list[list[int]]:
        doubler = Doubler()
        batcher = Batcher(doubler)
        await asyncio.gather(*(batcher.submit(n) for n in range(5)))
        return doubler.batches

    assert run(scenario) == [[0, 1, 2, 3, 4]]


def test_batches_are_bounded_in_size_and_in_number_at_once() -> None:
    async def scenario() -> tuple[list[int], list[list[int]], int]:
        doubler = Doubler()
        batcher = Batcher(doubler, max_size=3, max_in_flight=2)
        results = await asyncio.gather(*(batcher.submit(n) for n in range(10)))
        return results, doubler.batches, doubler.most_running

    results, batches, most_running = run(scenario)
    assert results == [n * 2 for n in range(10)]
    assert all(len(batch) <= 3 for batch in batches)
    assert sorted(n for batch in batches for n in batch) == list(range(10))
    assert most_running == 2


def test_a_failed_batch_is_run_item_by_item_so_one_bad_item_fails_alone() -> None:
    async def scenario() -> tuple[list[int | BaseException], list[list[int]]]:
        doubler = Doubler()
        batcher = Batcher(doubler)
        outcomes = await asyncio.gather(
            *(batcher.submit(n) for n in (1, -1, 3)), return_exceptions=True
        )
        return outcomes, doubler.batches

    outcomes, batches = run(scenario)
    assert outcomes[0] == 2
    assert outcomes[2] == 6
    assert isinstance(outcomes[1], ValueError)
    assert batches == [[1, -1, 3], [1], [-1], [3]]


def test_an_error_that_is_not_one_items_fails_the_whole_batch_once() -> None:
    async def scenario() -> tuple[list[int | BaseException], list[list[int]]]:
        doubler = Doubler()
        batcher = Batcher(doubler, isolate=lambda error: False)
        outcomes = await asyncio.gather(
            *(batcher.submit(n) for n in (1, -1, 3)), return_exceptions=True
        )
        return outcomes, doubler.batches

    outcomes, batches = run(scenario)
    assert all(isinstance(outcome, ValueError) for outcome in outcomes)
    assert batches == [[1, -1, 3]]


def test_a_batch_function_that_loses_results_is_an_error_for_its_waiters() -> None:
    async def lossy(items: Sequence[int]) -> list[int]:
        return list(items)[:-1]

    async def scenario() -> list[int | BaseException]:
        batcher: Batcher[int, int] = Batcher(lossy, isolate=lambda error: False)
        return await asyncio.gather(*(batcher.submit(n) for n in (1, 2)), return_exceptions=True)

    outcomes = run(scenario)
    assert all(isinstance(outcome, RuntimeError) for outcome in outcomes)
    assert "2 items had 1 results" in str(outcomes[0])


def test_a_waiter_that_gives_up_does_not_disturb_the_others() -> None:
    async def scenario() -> tuple[int, bool]:
        doubler = Doubler()
        batcher = Batcher(doubler)
        doubler.gate.clear()
        leaving = asyncio.create_task(batcher.submit(1))
        staying = asyncio.create_task(batcher.submit(2))
        await asyncio.sleep(0.01)
        leaving.cancel()
        doubler.gate.set()
        return await staying, leaving.cancelled()

    assert run(scenario) == (4, True)


async def batch_in_flight(doubler: Doubler) -> tuple[Batcher[int, int], asyncio.Task[int]]:
    """A batcher whose one batch is running, held at the doubler's gate."""
    batcher = Batcher(doubler)
    doubler.gate.clear()
    waiter = asyncio.create_task(batcher.submit(5))
    await asyncio.sleep(0.01)
    assert doubler.batches == [[5]]
    return batcher, waiter


def test_closing_waits_for_the_batches_in_flight() -> None:
    async def scenario() -> tuple[bool, int]:
        doubler = Doubler()
        batcher, waiter = await batch_in_flight(doubler)
        closing = asyncio.create_task(batcher.aclose())
        await asyncio.sleep(0.01)
        closed_early = closing.done()
        doubler.gate.set()
        await closing
        return closed_early, await waiter

    assert run(scenario) == (False, 10)


def test_a_cancelled_batch_cancels_its_waiters_rather_than_leave_them_waiting() -> None:
    async def scenario() -> bool:
        doubler = Doubler()
        _, waiter = await batch_in_flight(doubler)
        [batch_task] = doubler.tasks
        assert batch_task is not None
        batch_task.cancel()  # as at shutdown
        with pytest.raises(asyncio.CancelledError):
            await waiter
        return waiter.cancelled()

    assert run(scenario) is True


def test_sizes_below_one_are_refused() -> None:
    async def nothing(items: Sequence[int]) -> list[int]:
        return []

    with pytest.raises(ValueError, match="at least 1"):
        Batcher(nothing, max_size=0)


def test_by_default_a_batch_is_not_split_when_a_dependency_is_unavailable() -> None:
    async def scenario() -> tuple[list[int | BaseException], list[list[int]]]:
        batches: list[list[int]] = []

        async def unavailable(items: Sequence[int]) -> list[int]:
            batches.append(list(items))
            await asyncio.sleep(0)
            raise DependencyUnavailable("postgres is unreachable", dependency="postgres")

        batcher = Batcher(unavailable)
        outcomes = await asyncio.gather(
            *(batcher.submit(n) for n in range(3)), return_exceptions=True
        )
        return outcomes, batches

    outcomes, batches = run(scenario)
    assert all(isinstance(outcome, DependencyUnavailable) for outcome in outcomes)
    # Split, each item would wait through the retries again, for the same 503.
    assert batches == [[0, 1, 2]]


def test_a_batch_runs_in_a_context_of_its_own_not_its_first_requests() -> None:
    request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id")

    async def scenario() -> list[str | None]:
        seen: list[str | None] = []

        async def recording(items: Sequence[int]) -> list[int]:
            seen.append(request_id.get(None))
            await asyncio.sleep(0)
            return list(items)

        batcher = Batcher(recording)

        async def submit_as(name: str, item: int) -> int:
            request_id.set(name)
            return await batcher.submit(item)

        await asyncio.gather(*(submit_as(f"req-{n}", n) for n in range(3)))
        return seen

    # One batch for the three, in a context of its own.
    assert run(scenario) == [None]

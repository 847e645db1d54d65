"""Background loops stop when the application stops, even when the library a
loop calls swallows the cancellation that interrupted it."""

from __future__ import annotations

import asyncio

from ingest_api.core.background import cancel_and_wait


async def swallowing_call(started: asyncio.Event, swallowed: list[int]) -> None:
    """Returns as if nothing happened the first time it is cancelled, as
    redis-py now and then does mid-command (a real client cannot be made to
    on demand, hence this stand-in)."""
    started.set()
    try:
        await asyncio.sleep(60)
    except asyncio.CancelledError:
        if swallowed:
            raise
        swallowed.append(1)


async def polling_loop(started: asyncio.Event, swallowed: list[int]) -> None:
    while True:
        await swallowing_call(started, swallowed)
        await asyncio.sleep(0.01)


def test_a_loop_whose_library_swallowed_the_cancel_still_stops() -> None:
    swallowed: list[int] = []

    async def run() -> asyncio.Task[None]:
        started = asyncio.Event()
        task = asyncio.create_task(polling_loop(started, swallowed))
        await started.wait()
        await asyncio.wait_for(cancel_and_wait([task]), timeout=5)
        return task

    task = asyncio.run(run())
    assert swallowed == [1]  # the first cancellation was lost
    assert task.cancelled()


def test_tasks_already_done_are_waited_for_at_once() -> None:
    async def run() -> None:
        async def quick() -> None:
            return None

        task = asyncio.create_task(quick())
        await task
        await asyncio.wait_for(cancel_and_wait([task]), timeout=1)

    asyncio.run(run())

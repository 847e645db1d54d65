"""Loops that run beside the requests (the outbox relay, the queue's gauges)
until the application stops them."""

from __future__ import annotations

import asyncio
from collections.abc import Collection

# How long one cancellation is given to land before it is sent again.
CANCEL_AGAIN_SECONDS = 0.5


async def cancel_and_wait(tasks: Collection[asyncio.Task[None]]) -> None:
    """Cancel `tasks` until every one has ended.

    One cancellation is not always enough: a client library may swallow a
    CancelledError that lands mid-command (redis-py does, now and then) and
    return as if nothing happened, and a loop then goes on forever. Sent
    again, the cancellation lands at the loop's next wait, which is ours.
    """
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=CANCEL_AGAIN_SECONDS)

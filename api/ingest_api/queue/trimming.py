"""Trimming the job stream and its dead letters (`ingest-admin purge`).

An entry leaves the job stream once the group is done with it: delivered
and acknowledged, which are the entries before the oldest pending one and
up to the last delivered. Nothing is trimmed while the group is missing (a
worker creates it again from the start of the stream, and reads it all).
Dead letters are kept for a time, then trimmed by age.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import redis.asyncio as aioredis

from ingest_api.queue.promised import last_delivered_id


async def trim_acknowledged(redis: aioredis.Redis, *, stream: str, group: str) -> int:
    """Delete the entries the group has delivered and acknowledged; how many."""
    last = await last_delivered_id(redis, stream=stream, group=group)
    if last is None or last == "0-0":
        return 0  # no stream, no group, or nothing delivered yet
    summary: Any = await redis.xpending(stream, group)
    keep_from = str(summary["min"]) if summary["pending"] else following_id(last)
    return int(await redis.xtrim(stream, minid=keep_from, approximate=False))


async def trim_older_than(redis: aioredis.Redis, *, stream: str, before: datetime) -> int:
    """Delete the entries added before `before` (their ids are times); how many."""
    return int(
        await redis.xtrim(stream, minid=f"{int(before.timestamp() * 1000)}-0", approximate=False)
    )


def following_id(entry_id: str) -> str:
    """The smallest stream id after `entry_id` ("1-5" -> "1-6")."""
    milliseconds, sequence = entry_id.split("-")
    return f"{milliseconds}-{int(sequence) + 1}"

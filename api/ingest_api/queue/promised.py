"""Which jobs the stream still promises to deliver to a consumer group.

A message is still promised while the group has not delivered it yet (past
the group's last-delivered id) or while it is pending (delivered, not yet
acknowledged: a worker holds it, or will reclaim it). A job in `queued` or
`processing` that no promised message names was lost: Redis restarted
without its data, the stream was trimmed or flushed, or a message was
dead-lettered before its job could be failed. `jobs.recovery` queues such
jobs again.

Read in this order (last-delivered id, then the entries past it, then the
pending list), an entry delivered while we read is seen either way.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from ingest_api.queue.consumer import is_missing_group

# Entries read per call. (redis-py's declared types do not describe these
# answers, hence the `Any`s: with decode_responses, ids and fields are str.)
PAGE = 1000


async def promised_job_ids(redis: aioredis.Redis, *, stream: str, group: str) -> set[str]:
    """The job ids named by messages the group will still deliver (as strings)."""
    last_delivered = await last_delivered_id(redis, stream=stream, group=group)
    if last_delivered is None:
        return set()  # no stream: nothing promised
    promised = await _job_ids_after(redis, stream=stream, after=last_delivered)
    promised |= await _pending_job_ids(redis, stream=stream, group=group)
    return promised


async def last_delivered_id(redis: aioredis.Redis, *, stream: str, group: str) -> str | None:
    """The group's last-delivered id; "0-0" when the group is missing (a
    worker creates it again from the start of the stream); None without a stream."""
    try:
        groups: list[dict[str, Any]] = await redis.xinfo_groups(stream)
    except ResponseError as error:
        if "no such key" in str(error).lower():
            return None
        raise
    for info in groups:
        if info["name"] == group:
            return str(info["last-delivered-id"])
    return "0-0"


async def _job_ids_after(redis: aioredis.Redis, *, stream: str, after: str) -> set[str]:
    job_ids: set[str] = set()
    start = f"({after}"
    while True:
        entries: Any = await redis.xrange(stream, min=start, max="+", count=PAGE)
        job_ids.update(fields["job_id"] for _, fields in entries if "job_id" in fields)
        if len(entries) < PAGE:
            return job_ids
        start = f"({entries[-1][0]}"


async def _pending_job_ids(redis: aioredis.Redis, *, stream: str, group: str) -> set[str]:
    job_ids: set[str] = set()
    start = "-"
    while True:
        try:
            pending: Any = await redis.xpending_range(stream, group, min=start, max="+", count=PAGE)
        except ResponseError as error:
            if is_missing_group(error):
                return job_ids
            raise
        async with redis.pipeline(transaction=False) as pipe:
            for entry in pending:
                pipe.xrange(stream, min=entry["message_id"], max=entry["message_id"], count=1)
            answers = await pipe.execute()
        # An entry trimmed from the stream while pending has no fields left.
        job_ids.update(
            fields["job_id"] for answer in answers for _, fields in answer if "job_id" in fields
        )
        if len(pending) < PAGE:
            return job_ids
        start = f"({pending[-1]['message_id']}"

"""`ingest-admin purge`: delete what the retention policy no longer keeps.

Idempotent (a second run deletes nothing more) and safe beside running
APIs and workers: rows go in batches, each its own short transaction; a
job's objects are deleted from storage before its row, in the transaction
that holds the row locked (SKIP LOCKED: a job someone holds is left for
the next run). Any step's failure stops the run with the error, but for
the lifecycle rules, which some storage refuses; the next run (the
operator's CronJob) picks up where it stopped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from sqlalchemy import ColumnClause, ColumnElement, and_, delete, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_api.auth.models import RefreshToken
from ingest_api.core.db import Base
from ingest_api.core.errors import DependencyUnavailable
from ingest_api.core.logging import get_logger
from ingest_api.jobs.models import IdempotencyKey, Job
from ingest_api.jobs.states import JobState
from ingest_api.queue.consumer import dead_letter_stream
from ingest_api.queue.models import OutboxMessage
from ingest_api.queue.trimming import trim_acknowledged, trim_older_than
from ingest_api.retention.policy import cutoffs, lifecycle_rules
from ingest_api.runtime import Runtime
from ingest_api.storage.keys import result_key
from ingest_api.storage.multipart import PartUploads

# Failed jobs may be queued again (/retry), until retention ends; a job
# still `created` was never completed: its upload never came, or was dropped.
PURGEABLE_STATES = tuple(
    state.value
    for state in (JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.CREATED)
)
# Rows per transaction; storage deletes at most 1,000 objects a request,
# and each job has two.
BATCH = 500

log = get_logger(__name__)


@dataclass
class PurgeReport:
    """What one run deleted, by kind."""

    outbox_rows: int = 0
    refresh_tokens: int = 0
    idempotency_keys: int = 0
    jobs: int = 0
    objects: int = 0
    stream_entries: int = 0
    dead_letters: int = 0
    # The bucket's lifecycle rules set by this run (0: storage refused them).
    lifecycle_rules: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


async def purge(runtime: Runtime, *, group: str, now: datetime) -> PurgeReport:
    settings = runtime.settings
    cut = cutoffs(settings, now)
    report = PurgeReport()
    report.outbox_rows = await _delete_batches(
        runtime, OutboxMessage, OutboxMessage.sent_at < cut.relayed_outbox
    )
    report.refresh_tokens = await _delete_batches(
        runtime, RefreshToken, RefreshToken.expires_at < cut.expired_tokens
    )
    report.idempotency_keys = await _delete_batches(
        runtime, IdempotencyKey, IdempotencyKey.created_at < cut.idempotency_keys
    )
    report.jobs, report.objects = await _purge_jobs(runtime, before=cut.finished_jobs)
    report.lifecycle_rules = await _set_lifecycle(runtime)
    report.stream_entries = await trim_acknowledged(
        runtime.redis, stream=settings.queue_stream, group=group
    )
    report.dead_letters = await trim_older_than(
        runtime.redis, stream=dead_letter_stream(settings.queue_stream), before=cut.finished_jobs
    )
    log.info("purged", **report.as_dict())
    return report


async def _set_lifecycle(runtime: Runtime) -> int:
    """Set the bucket's rules; how many. A storage that refuses them (some
    S3-compatible stores answer 501, or the credentials may not) does not
    stop the rest of the purge: objects then go only with their jobs."""
    rules = lifecycle_rules(runtime.settings)
    try:
        await runtime.store.set_lifecycle(rules)
    except (DependencyUnavailable, ClientError) as error:
        log.warning("storage refused the lifecycle rules", error=str(error))
        return 0
    return len(rules["Rules"])


def finished_before(before: datetime) -> ColumnElement[bool]:
    """Jobs past retention: finished, or never completed, and unmoved since `before`."""
    return and_(Job.updated_at < before, Job.status.in_(PURGEABLE_STATES))


async def _purge_jobs(runtime: Runtime, *, before: datetime) -> tuple[int, int]:
    """Delete jobs past retention (their events and idempotency keys go with
    them) and their objects; how many jobs and objects."""

    async def batch(session: AsyncSession) -> tuple[int, int]:
        rows = (
            await session.execute(
                select(Job.id, Job.object_key, Job.upload_id, Job.status)
                .where(finished_before(before))
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not rows:
            return 0, 0
        keys = [key for job_id, upload, _, _ in rows for key in (upload, result_key(job_id))]
        objects = await runtime.store.delete(keys)
        # A job never completed may have parts in storage: they go too.
        uploads = PartUploads(runtime.store)
        for _, key, upload_id, status in rows:
            if upload_id is not None and status == JobState.CREATED.value:
                await uploads.abort(key=key, upload_id=upload_id)
        await session.execute(delete(Job).where(Job.id.in_([row[0] for row in rows])))
        return len(rows), objects

    jobs = objects = 0
    while True:
        deleted, removed = await runtime.db.transaction(batch)
        jobs, objects = jobs + deleted, objects + removed
        if deleted < BATCH:
            return jobs, objects


async def _delete_batches(
    runtime: Runtime, table: type[Base], condition: ColumnElement[bool]
) -> int:
    """Delete `table`'s rows matching `condition`, a batch at a time, each
    batch its own transaction; how many rows went."""
    # A row's physical address: one way to name a batch of any table's rows.
    ctid: ColumnClause[Any] = literal_column("ctid")
    statement = delete(table).where(
        ctid.in_(select(ctid).select_from(table).where(condition).limit(BATCH))
    )

    async def batch(session: AsyncSession) -> int:
        result: Any = await session.execute(statement)
        return int(result.rowcount)

    total = 0
    while True:
        deleted = await runtime.db.transaction(batch)
        total += deleted
        if deleted < BATCH:
            return total

"""Reading a job: `GET /v1/jobs/{id}`, and the routes that start from one job.

Clients follow their jobs by polling them, so reads are the API's most
frequent request. Concurrent reads are made together (`core.batching`), one
statement per batch, as creations are (`jobs.creation`). A read never joins
a batch that was already running when it arrived, so it sees every change
committed before its request.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Final

from ingest_api.core.batching import Batcher
from ingest_api.core.db import Database
from ingest_api.core.metrics import JOB_BATCH_SIZE
from ingest_api.jobs import sql
from ingest_api.jobs.models import JobRow
from ingest_api.users.models import Principal

# As for creations (`jobs.creation`): the bound matters only when the
# database fell behind, and is high so that the reads waiting by then go in
# a few statements.
MAX_BATCH = 512
# One batch at a time, on one connection: two at a time, measured side by
# side (three runs each), made no difference beyond the noise (0.66 to 1.10
# of /healthz's rate, against 0.72 to 0.98). Reads take no locks, so a slow
# statement holds back only the reads that arrive while it runs.
MAX_BATCHES_IN_FLIGHT = 1

_READ_BATCHES: Final = JOB_BATCH_SIZE.labels(operation="read")


class JobReads:
    """Reads jobs for the API's requests, batching concurrent ones."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._batches: Batcher[tuple[uuid.UUID, uuid.UUID], Sequence[Any]] = Batcher(
            self._select, max_size=MAX_BATCH, max_in_flight=MAX_BATCHES_IN_FLIGHT
        )

    async def get_visible(
        self, *, job_id: uuid.UUID, user_id: uuid.UUID
    ) -> tuple[Principal, JobRow]:
        """The caller behind `user_id`, if still active, and the job, if they
        may see it (others' jobs are 'not found'): see `sql.visible_job`."""
        row = await self._batches.submit((job_id, user_id))
        return sql.visible_job(row, job_id=job_id)

    async def aclose(self) -> None:
        """Let the batches in flight finish."""
        await self._batches.aclose()

    async def _select(self, wanted: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> list[Sequence[Any]]:
        _READ_BATCHES.observe(len(wanted))
        return await self._db.run(lambda conn: sql.select_jobs(conn, wanted))

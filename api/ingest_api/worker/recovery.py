"""The recovery loop every worker runs beside its consumer loops.

Every WORKER_RECOVERY_INTERVAL_SECONDS: the jobs owed a delivery that have
not moved for WORKER_RECOVERY_AFTER_SECONDS, less those the stream still
promises, are taken over (`jobs.recovery`). Running it on every replica at
once is safe: each takeover is conditional on the job being as it was seen.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

from ingest_api.core.logging import get_logger
from ingest_api.core.metrics import WORKER_RECOVERED_JOBS
from ingest_api.jobs.recovery import RECOVERY_ACTOR_PREFIX, JobSeen, take_over, unmoved_jobs
from ingest_api.jobs.states import JobState
from ingest_api.jobs.transitions import Actor
from ingest_api.queue.promised import promised_job_ids
from ingest_api.runtime import Runtime
from ingest_api.worker.failures import unreachable_dependency

# Jobs looked at per round; more wait for the next.
BATCH = 500

log = get_logger(__name__)


class Recovery:
    def __init__(self, runtime: Runtime, *, group: str, name: str) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.group = group
        self.stream = settings.queue_stream
        self.actor = Actor(f"{RECOVERY_ACTOR_PREFIX}{name}")
        self.interval = settings.worker_recovery_interval_seconds
        self.after = timedelta(seconds=settings.worker_recovery_after_seconds)
        self.max_takeovers = settings.worker_max_deliveries

    async def recover_once(self) -> int:
        """One round; how many jobs it took over."""
        since = datetime.now(UTC) - self.after
        unmoved = await self.runtime.db.read(
            lambda session: unmoved_jobs(session, stream=self.stream, since=since, limit=BATCH)
        )
        if not unmoved:
            return 0
        promised = await promised_job_ids(self.runtime.redis, stream=self.stream, group=self.group)
        taken = 0
        for seen in unmoved:
            if str(seen.id) not in promised and await self._take_over(seen) is not None:
                taken += 1
        return taken

    async def _take_over(self, seen: JobSeen) -> JobState | None:
        now = await self.runtime.db.transaction(
            lambda session: take_over(
                session,
                seen,
                actor=self.actor,
                stream=self.stream,
                max_takeovers=self.max_takeovers,
            )
        )
        if now is not None:
            WORKER_RECOVERED_JOBS.labels(from_state=seen.status, to_state=now.value).inc()
            log.warning(
                "took over a job whose message was lost",
                job_id=str(seen.id),
                from_status=seen.status,
                to_status=now.value,
            )
        return now

    async def run(self, stopping: asyncio.Event) -> None:
        """A round every interval until `stopping` is set."""
        while not stopping.is_set():
            try:
                await self.recover_once()
            except Exception as error:
                dependency = unreachable_dependency(error)
                if dependency is None:
                    log.exception("recovery round failed")
                else:
                    log.warning("recovery waiting for a dependency", dependency=dependency)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=self.interval)

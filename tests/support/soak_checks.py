"""What the chaos soak counts, from the database and the bucket: jobs lost,
jobs completed more than once, and jobs whose outcome differs from a
fault-free run of the same file (`process_stream` in this process, with
the worker's limits and the job's own reference time); and, per fault,
its recovery: from the fault to every process ready again, and to the
first job completed after that (the service working again), and the jobs
the recovery took over because the fault lost their message."""

from __future__ import annotations

import bisect
import gzip
import hashlib
import io
from dataclasses import dataclass
from typing import Any

import psycopg

from ingest_api.core.config import Settings
from ingest_api.processing import Limits, ProcessingError, process_stream
from ingest_api.storage.service import s3_client
from tests.support.chaos import InjectedFault, SoakFile, SoakRun


@dataclass(frozen=True)
class FaultRecovery:
    fault: str
    ready_after: float
    # From the fault to the first job completed once every process was
    # ready, and (a Redis wipe) to the last job it lost queued again.
    working_after: float
    taken_over: int


@dataclass(frozen=True)
class Outcome:
    """How a file ended: a failure code, or a summary and its output's digest."""

    failure_code: str | None
    summary: dict[str, Any] | None = None
    output_sha256: str | None = None


@dataclass
class SoakReport:
    jobs: int
    lost: list[str]
    completed_twice: list[str]
    differing: list[str]
    unknown_jobs: int
    recoveries: list[FaultRecovery]
    seconds: float

    def longest_recovery(self) -> float:
        return max((r.working_after for r in self.recoveries), default=0.0)

    def ok(self) -> bool:
        return not (self.lost or self.completed_twice or self.differing or self.unknown_jobs)

    def lines(self) -> list[str]:
        lines = [
            f"jobs submitted                 {self.jobs}",
            f"jobs lost                      {len(self.lost)}",
            f"jobs completed more than once  {len(self.completed_twice)}",
            f"outcomes differing from a fault-free run  {len(self.differing)}",
            f"jobs no client created         {self.unknown_jobs}",
            f"run time                       {self.seconds:.0f} s",
            f"longest recovery               {self.longest_recovery():.1f} s",
            "fault               ready again   working again   jobs taken over",
        ]
        lines += [
            f"  {r.fault:<18}{r.ready_after:8.1f} s{r.working_after:13.1f} s{r.taken_over:12d}"
            for r in self.recoveries
        ]
        return lines


def expected_outcome(file: SoakFile, settings: Settings, reference_time: Any) -> Outcome:
    """The outcome of a fault-free run of `file`."""
    chunks: list[bytes] = []
    limits = Limits(
        max_decompressed_bytes=settings.max_decompressed_bytes,
        max_compression_ratio=settings.max_compression_ratio,
        max_line_bytes=settings.max_line_bytes,
        max_seconds=settings.max_processing_seconds,
    )
    try:
        summary = process_stream(
            io.BytesIO(file.data),
            chunks.append,
            limits=limits,
            reference_time=reference_time,
            expected_sha256=file.sha256,
        )
    except ProcessingError as error:
        return Outcome(error.code)
    output = gzip.decompress(b"".join(chunks))
    return Outcome(None, summary.to_dict(), hashlib.sha256(output).hexdigest())


def check_soak(settings: Settings, run: SoakRun) -> SoakReport:
    with psycopg.connect(settings.database_url) as conn:
        jobs = {
            str(row[0]): row[1:]
            for row in conn.execute("SELECT id, status, failure_code, result, created_at FROM jobs")
        }
        completions = dict(
            conn.execute(
                "SELECT job_id::text, count(*) FROM job_events "
                "WHERE to_status = 'completed' GROUP BY job_id"
            ).fetchall()
        )
        completed_at = [
            float(row[0])
            for row in conn.execute(
                "SELECT extract(epoch FROM created_at) FROM job_events "
                "WHERE to_status = 'completed' ORDER BY 1"
            )
        ]
        takeovers_at = [
            float(row[0])
            for row in conn.execute(
                "SELECT extract(epoch FROM created_at) FROM job_events "
                "WHERE actor LIKE 'recovery:%' ORDER BY 1"
            )
        ]
    storage = s3_client(settings)
    differing = []
    for job_id, file in run.submitted.items():
        status, code, result, created_at = jobs[job_id]
        if status not in {"completed", "failed"}:
            continue  # lost (still owed a delivery) or cancelled: not compared
        expected = expected_outcome(file, settings, created_at)
        if status == "failed":
            same = code == expected.failure_code
        else:
            body = storage.get_object(Bucket=settings.s3_bucket, Key=result["output_key"])["Body"]
            digest = hashlib.sha256(gzip.decompress(body.read())).hexdigest()
            summary = {key: result[key] for key in expected.summary or {}}
            same = (summary, digest) == (expected.summary, expected.output_sha256)
        if not same:
            differing.append(job_id)
    return SoakReport(
        jobs=len(run.submitted),
        lost=[job_id for job_id in run.submitted if jobs[job_id][0] not in {"completed", "failed"}],
        completed_twice=[job_id for job_id, count in completions.items() if count > 1],
        differing=differing,
        unknown_jobs=len(set(jobs) - set(run.submitted)),
        recoveries=recoveries(run.faults, completed_at, takeovers_at),
        seconds=run.seconds,
    )


def recoveries(
    faults: list[InjectedFault], completed_at: list[float], takeovers_at: list[float]
) -> list[FaultRecovery]:
    """Each fault's recovery, from the (sorted) times of completions and of
    takeovers. Only a Redis wipe loses messages: a takeover belongs to the
    last wipe before it, whose recovery lasts until its last takeover."""
    found = []
    wipes = [fault.at for fault in faults if fault.name == "redis-wipe"]
    for fault in faults:
        ready = fault.at + fault.ready_after
        first = bisect.bisect_left(completed_at, ready)
        working = completed_at[first] - fault.at if first < len(completed_at) else float("inf")
        taken = []
        if fault.name == "redis-wipe":
            next_wipe = next((at for at in wipes if at > fault.at), float("inf"))
            taken = [at for at in takeovers_at if fault.at <= at < next_wipe]
            working = max([working, *(at - fault.at for at in taken)])
        found.append(FaultRecovery(fault.name, fault.ready_after, working, len(taken)))
    return found

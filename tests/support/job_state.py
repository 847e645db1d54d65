"""Read a job's state and history straight from PostgreSQL, and wait for a
state: what a test checks after real processes have moved the job."""

from __future__ import annotations

import time
from typing import Any

import psycopg

from ingest_api.core.config import Settings


def job_row(settings: Settings, job_id: str) -> dict[str, Any]:
    with psycopg.connect(settings.database_url) as conn:
        cursor = conn.execute(
            "SELECT status, attempts, failure_reason, failure_code, result FROM jobs WHERE id = %s",
            (job_id,),
        )
        status, attempts, reason, code, result = cursor.fetchone() or (None,) * 5
    return {
        "status": status,
        "attempts": attempts,
        "failure_reason": reason,
        "failure_code": code,
        "result": result,
    }


def transitions(settings: Settings, job_id: str) -> list[tuple[str | None, str, str | None]]:
    with psycopg.connect(settings.database_url) as conn:
        rows = conn.execute(
            "SELECT from_status, to_status, reason FROM job_events WHERE job_id = %s ORDER BY id",
            (job_id,),
        ).fetchall()
    return [(row[0], row[1], row[2]) for row in rows]


def wait_for(
    settings: Settings, job_id: str, wanted: set[str], timeout: float = 60
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        row = job_row(settings, job_id)
        if row["status"] in wanted:
            return row
        assert time.monotonic() < deadline, f"job {job_id} still {row['status']} after {timeout}s"
        time.sleep(0.1)

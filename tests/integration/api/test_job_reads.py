"""Job reads batched on the real PostgreSQL (jobs.reading): concurrent reads
share a statement, yet each caller gets their own answer: the job, 'not
found' for someone else's, or why they may not read at all."""

from __future__ import annotations

import asyncio
import uuid
from typing import LiteralString

import psycopg

from ingest_api.core.config import Settings
from ingest_api.core.db import Database
from ingest_api.core.errors import NotFound, Unauthenticated
from ingest_api.core.metrics import REGISTRY
from ingest_api.jobs.creation import JobCreations
from ingest_api.jobs.reading import JobReads
from ingest_api.jobs.schemas import JobCreate
from ingest_api.users.models import Role
from tests.support.database import add_user, with_database

BODY = JobCreate(filename="app.log", content_type="text/plain", size_bytes=1024)


def read_batches_so_far() -> float:
    labels = {"operation": "read"}
    return REGISTRY.get_sample_value("ingest_job_batch_size_count", labels) or 0.0


async def new_job(db: Database, settings: Settings, owner: uuid.UUID, filename: str) -> uuid.UUID:
    creations = JobCreations(db, settings)
    data = BODY.model_copy(update={"filename": filename})
    job, _ = await creations.create(user_id=owner, data=data, request_id=None)
    await creations.aclose()
    return job.id


async def run_sql(settings: Settings, statement: LiteralString, *values: object) -> None:
    """`statement`, committed on a connection of its own, as another process would."""
    async with await psycopg.AsyncConnection.connect(settings.database_url) as conn:
        await conn.execute(statement, values)


def test_concurrent_reads_share_statements_and_each_caller_gets_their_own_answer(
    settings: Settings,
) -> None:
    async def use(db: Database) -> tuple[list[object], dict[str, uuid.UUID], float]:
        roles = {"ana": Role.UPLOADER, "bo": Role.UPLOADER, "root": Role.ADMIN}
        roles["gone"] = Role.UPLOADER  # disabled once their job is made
        people = {name: await add_user(db, name, role) for name, role in roles.items()}
        jobs = {name: await new_job(db, settings, people[name], f"{name}.log") for name in people}
        await run_sql(settings, "UPDATE users SET is_active = false WHERE id = %s", people["gone"])
        reads = JobReads(db)
        asked = [
            ("ana", jobs["ana"]),  # their own
            ("bo", jobs["ana"]),  # someone else's
            ("root", jobs["bo"]),  # an admin reads every job
            ("ana", uuid.uuid4()),  # no such job
            ("gone", jobs["gone"]),  # a disabled user, their own job
        ]
        before = read_batches_so_far()
        answers = await asyncio.gather(
            *(reads.get_visible(job_id=job, user_id=people[name]) for name, job in asked),
            reads.get_visible(job_id=jobs["ana"], user_id=uuid.uuid4()),  # a user who is gone
            return_exceptions=True,
        )
        batches = read_batches_so_far() - before
        await reads.aclose()
        return list(answers), jobs, batches

    answers, jobs, batches = with_database(settings, use)
    own, others, as_admin, missing, disabled, stranger = answers
    assert isinstance(own, tuple)
    assert (own[0].username, own[1].id, own[1].filename) == ("ana", jobs["ana"], "ana.log")
    assert isinstance(others, NotFound)
    assert str(jobs["ana"]) in str(others)
    assert isinstance(as_admin, tuple)
    assert (as_admin[0].username, as_admin[1].id) == ("root", jobs["bo"])
    assert isinstance(missing, NotFound)
    assert isinstance(disabled, Unauthenticated)
    assert "disabled" in str(disabled)
    assert isinstance(stranger, Unauthenticated)
    assert "no longer exists" in str(stranger)
    assert batches < len(answers)


def test_a_read_sees_what_was_committed_before_it(settings: Settings) -> None:
    async def use(db: Database) -> tuple[str, str]:
        ana = await add_user(db, "ana", Role.UPLOADER)
        job_id = await new_job(db, settings, ana, "a.log")
        reads = JobReads(db)
        _, before = await reads.get_visible(job_id=job_id, user_id=ana)
        # Another process (a worker, another API replica) moves the job.
        await run_sql(settings, "UPDATE jobs SET status = 'queued' WHERE id = %s", job_id)
        _, after = await reads.get_visible(job_id=job_id, user_id=ana)
        await reads.aclose()
        return before.status, after.status

    assert with_database(settings, use) == ("created", "queued")

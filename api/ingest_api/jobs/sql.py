"""Creating and reading a job in the driver's own SQL: the request hot paths.

`POST /v1/jobs` and `GET /v1/jobs/{id}` run for every upload and every poll,
so they skip the ORM (see `Database.run`) and make one round trip each: the
statement that reads or creates jobs also reads the callers' user rows, so
that authentication (is the token's user still there and active?) costs no
statement of its own. Each statement serves a batch of concurrent requests
(`jobs.creation`, `jobs.reading`). New jobs and their first events are
inserted by the same statement; with an Idempotency-Key, a short
transaction claims the key first. Every later change of a job goes through
`transitions.transition` in an ORM session.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, Final

from psycopg.types.json import Jsonb

from ingest_api.auth.service import USER_COLUMNS, principal_from
from ingest_api.core.db import DriverConnection
from ingest_api.core.errors import Conflict, InvalidRequest
from ingest_api.jobs.models import JobRow
from ingest_api.jobs.rules import (
    IDEMPOTENCY_KEY_TTL,
    UPLOADER_ROLES,
    check_visible,
    request_fingerprint,
    require_uploader,
)
from ingest_api.jobs.schemas import JobCreate
from ingest_api.jobs.states import JobState
from ingest_api.jobs.transitions import Actor
from ingest_api.storage.keys import upload_key
from ingest_api.users.models import Principal

JOB_COLUMNS: Final = tuple(field.name for field in fields(JobRow))


def _qualified(table: str, columns: Sequence[str]) -> str:
    return ", ".join(f"{table}.{column}" for column in columns)


# The statements below are built from USER_COLUMNS, JOB_COLUMNS and the
# uploader roles (fixed names in this code), never from input: every value
# from a request is a bound parameter. Each returns the caller's user
# columns, then the job's (NULL when there is none).
_UPLOADER_ROLES: Final = ", ".join(f"'{role}'" for role in UPLOADER_ROLES)

# Jobs to read come as two arrays, job ids and their callers' ids (a batch
# of concurrent reads, see `jobs.reading`), so that the statement's text is
# the same for every batch size. Each pair gets one row, in order: its
# caller's columns (NULL for a user who is gone), then the job's (NULL when
# there is no such job).
_SELECT_JOBS: Final = f"""
SELECT {_qualified("u", USER_COLUMNS)}, {_qualified("j", JOB_COLUMNS)}
FROM unnest(%(job_ids)s::uuid[], %(user_ids)s::uuid[]) WITH ORDINALITY
     AS wanted(job_id, user_id, n)
LEFT JOIN users u ON u.id = wanted.user_id
LEFT JOIN jobs j ON j.id = wanted.job_id
ORDER BY wanted.n
"""  # noqa: S608

# New jobs come as one JSON array (a batch of concurrent creations, see
# `jobs.creation`): one parameter, which costs far less to send than a
# parameter per value, and keeps the statement's text the same for every
# batch size. A job is inserted only for an active caller of an uploading
# role; its first event comes from the same statement (its foreign key is
# checked at the statement's end, when the job row is there). Each new job
# gets a row: its id, its caller's columns (NULL for a user who is gone),
# then the job's (NULL when it was not inserted).
_INSERT_CREATED_JOBS: Final = f"""
WITH new AS (
    SELECT * FROM jsonb_to_recordset(%(jobs)s::jsonb) AS new(
        id uuid, owner_id uuid, filename text, content_type text, size_bytes bigint,
        sha256 text, labels jsonb, object_key text, request_id text, via text,
        part_size_bytes bigint)
), caller AS (
    SELECT {", ".join(USER_COLUMNS)} FROM users WHERE id IN (SELECT owner_id FROM new)
), job AS (
    INSERT INTO jobs (id, owner_id, status, filename, content_type, size_bytes, sha256,
                      labels, object_key, request_id, attempts, part_size_bytes)
    SELECT new.id, caller.id, %(status)s, new.filename, new.content_type, new.size_bytes,
           new.sha256, new.labels, new.object_key, new.request_id, 0, new.part_size_bytes
    FROM new JOIN caller ON caller.id = new.owner_id
    WHERE caller.is_active AND caller.role IN ({_UPLOADER_ROLES})
    ON CONFLICT (id) DO NOTHING
    RETURNING {", ".join(JOB_COLUMNS)}
), event AS (
    INSERT INTO job_events (job_id, from_status, to_status, actor, request_id, via)
    SELECT job.id, NULL, job.status, %(actor_prefix)s || caller.username, job.request_id, new.via
    FROM job JOIN caller ON caller.id = job.owner_id JOIN new ON new.id = job.id
), made AS (
    -- This attempt's rows, and those an earlier attempt of the same batch
    -- committed before its answer was lost (the statement sees them).
    SELECT * FROM job
    UNION ALL
    SELECT {", ".join(JOB_COLUMNS)} FROM jobs
    WHERE id IN (SELECT id FROM new) AND owner_id IN (SELECT owner_id FROM new)
)
SELECT new.id, {_qualified("caller", USER_COLUMNS)}, {_qualified("made", JOB_COLUMNS)}
FROM new LEFT JOIN caller ON caller.id = new.owner_id
LEFT JOIN made ON made.id = new.id AND made.owner_id = new.owner_id
"""  # noqa: S608

_SELECT_CALLER: Final = f"SELECT {', '.join(USER_COLUMNS)} FROM users WHERE id = %s"  # noqa: S608
_FORGET_EXPIRED_KEY: Final = (
    "DELETE FROM idempotency_keys WHERE user_id = %s AND key = %s AND created_at < %s"
)
_CLAIM_KEY: Final = (
    "INSERT INTO idempotency_keys (user_id, key, fingerprint, job_id) VALUES (%s, %s, %s, %s)"
    " ON CONFLICT DO NOTHING RETURNING key"
)
_SELECT_KEY: Final = (
    "SELECT fingerprint, job_id FROM idempotency_keys WHERE user_id = %s AND key = %s"
)


@dataclass(frozen=True, slots=True)
class NewJob:
    """A job to create: who asks (and how they authenticated), what they
    declared, and the request's id."""

    owner_id: uuid.UUID
    data: JobCreate
    request_id: str | None
    via: str | None = None
    # Uploaded in parts of this size; None: in one POST.
    part_size_bytes: int | None = None


def split_row(row: Sequence[Any] | None) -> tuple[Principal, JobRow | None]:
    """A hot-path row -> the caller (or Unauthenticated) and the job, if any."""
    if row is None or row[0] is None:
        return principal_from(None), None  # raises: the user is gone
    user_values, job_values = row[: len(USER_COLUMNS)], row[len(USER_COLUMNS) :]
    principal = principal_from(user_values)
    return principal, JobRow(*job_values) if job_values[0] is not None else None


def created_job(row: Sequence[Any] | None) -> JobRow:
    """A new job's row (`insert_created`) -> the job, or why there is none."""
    principal, job = split_row(row)
    # The statement inserted nothing for a caller without the role: say why.
    require_uploader(principal)
    if job is None:  # pragma: no cover - an active uploader's INSERT returns its row
        raise AssertionError("the job insert returned no row")
    return job


def visible_job(row: Sequence[Any] | None, *, job_id: uuid.UUID) -> tuple[Principal, JobRow]:
    """A read's row (`select_jobs`) -> the caller, if still active, and the
    job, if they may see it (others' jobs are 'not found')."""
    principal, job = split_row(row)
    return principal, check_visible(job, job_id=job_id, user=principal)


async def select_jobs(
    conn: DriverConnection, wanted: Sequence[tuple[uuid.UUID, uuid.UUID]]
) -> list[Sequence[Any]]:
    """Each (job id, caller id)'s row, in order, for `visible_job`: one statement."""
    ids = {"job_ids": [job_id for job_id, _ in wanted], "user_ids": [user for _, user in wanted]}
    cursor = await conn.execute(_SELECT_JOBS, ids)
    return await cursor.fetchall()


async def get_visible(
    conn: DriverConnection, *, job_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Principal, JobRow]:
    """The caller behind `user_id`, if still active, and the job, if they may see it."""
    [row] = await select_jobs(conn, [(job_id, user_id)])
    return visible_job(row, job_id=job_id)


async def insert_created(
    conn: DriverConnection, new_jobs: Sequence[tuple[uuid.UUID, NewJob]]
) -> list[Sequence[Any] | None]:
    """Insert each (id, new job) in `created`, with its first event, in one
    statement. Returns each one's row, in order, for `created_job`.

    Idempotent for the same ids: run again after an ambiguous failure (the
    connection lost after the commit, before the answer), it inserts
    nothing twice and returns the rows the first run made."""
    payload = [
        {
            "id": str(job_id),
            "owner_id": str(new.owner_id),
            "filename": new.data.filename,
            "content_type": new.data.content_type,
            "size_bytes": new.data.size_bytes,
            "sha256": new.data.sha256,
            "labels": new.data.labels,
            "object_key": upload_key(job_id),
            "request_id": new.request_id,
            "via": new.via,
            "part_size_bytes": new.part_size_bytes,
        }
        for job_id, new in new_jobs
    ]
    values = {
        "jobs": Jsonb(payload),
        "status": JobState.CREATED.value,
        "actor_prefix": Actor.USER_PREFIX,
    }
    cursor = await conn.execute(_INSERT_CREATED_JOBS, values)
    rows = {row[0]: row[1:] for row in await cursor.fetchall()}
    return [rows.get(job_id) for job_id, _ in new_jobs]


async def create_with_key(
    conn: DriverConnection, new: NewJob, *, idempotency_key: str
) -> tuple[JobRow, bool]:
    """A new job, or, for an Idempotency-Key seen before (same body), the job
    made then, in one transaction. Returns the job and whether it is new."""
    job_id = uuid.uuid4()
    async with conn.transaction():
        caller = await (await conn.execute(_SELECT_CALLER, (new.owner_id,))).fetchone()
        principal = principal_from(caller)
        require_uploader(principal)
        earlier = await _claim_idempotency_key(
            conn, user=principal, key=idempotency_key, data=new.data, job_id=job_id
        )
        if earlier is not None:
            _, job = await get_visible(conn, job_id=earlier, user_id=new.owner_id)
            return job, False
        [row] = await insert_created(conn, [(job_id, new)])
        return created_job(row), True


async def _claim_idempotency_key(
    conn: DriverConnection, *, user: Principal, key: str, data: JobCreate, job_id: uuid.UUID
) -> uuid.UUID | None:
    """Claim `key` for a new job; if it is taken, the job it already names.

    The INSERT waits on the unique index while a concurrent request holding
    the same key is in flight, then sees its committed row: a retry racing
    the original gets the same job rather than a second one."""
    fingerprint = request_fingerprint(data)
    expired_before = datetime.now(UTC) - IDEMPOTENCY_KEY_TTL
    await conn.execute(_FORGET_EXPIRED_KEY, (user.id, key, expired_before))
    claimed = await conn.execute(_CLAIM_KEY, (user.id, key, fingerprint, job_id))
    if await claimed.fetchone() is not None:
        return None
    existing = await (await conn.execute(_SELECT_KEY, (user.id, key))).fetchone()
    if existing is None:  # pragma: no cover - deleted between the two statements
        raise Conflict("the Idempotency-Key is being reused concurrently; retry")
    earlier_fingerprint, earlier_job_id = existing
    if earlier_fingerprint != fingerprint:
        raise InvalidRequest(
            "this Idempotency-Key was already used with a different request body",
            field="Idempotency-Key",
        )
    if not isinstance(earlier_job_id, uuid.UUID):  # pragma: no cover - the column is a uuid
        raise TypeError(f"idempotency_keys.job_id is {type(earlier_job_id).__name__}")
    return earlier_job_id

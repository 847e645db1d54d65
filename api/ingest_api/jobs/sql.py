"""Creating and reading a job in the driver's own SQL: the request hot paths.

`POST /v1/jobs` and `GET /v1/jobs/{id}` run for every upload and every poll,
so they skip the ORM (see `Database.run`) and make one round trip each: the
statement that reads or creates the job also reads the caller's user row,
so that authentication (is the token's user still there and active?) costs
no statement of its own. A new job and its first event are inserted by that
same statement; with an Idempotency-Key, a short transaction claims the key
first. Every later change of a job goes through `transitions.transition` in
an ORM session.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import fields
from datetime import UTC, datetime
from typing import Any, Final

from psycopg.types.json import Jsonb

from ingest_api.auth.service import USER_COLUMNS, principal_from
from ingest_api.core.config import Settings
from ingest_api.core.driver_connections import DriverConnection
from ingest_api.core.errors import Conflict, InvalidRequest
from ingest_api.core.logging import get_logger
from ingest_api.core.metrics import JOB_TRANSITIONS
from ingest_api.jobs.models import JobRow
from ingest_api.jobs.rules import (
    IDEMPOTENCY_KEY_TTL,
    UPLOADER_ROLES,
    check_acceptable,
    check_visible,
    object_key_for,
    request_fingerprint,
    require_uploader,
)
from ingest_api.jobs.schemas import JobCreate
from ingest_api.jobs.states import JobState
from ingest_api.jobs.transitions import Actor
from ingest_api.users.models import Principal

JOB_COLUMNS: Final = tuple(field.name for field in fields(JobRow))


def _qualified(table: str, columns: Sequence[str]) -> str:
    return ", ".join(f"{table}.{column}" for column in columns)


# The statements below are built from USER_COLUMNS, JOB_COLUMNS and the
# uploader roles (fixed names in this code), never from input: every value
# from a request is a bound parameter. Each returns the caller's user
# columns, then the job's (NULL when there is none).
_UPLOADER_ROLES: Final = ", ".join(f"'{role}'" for role in UPLOADER_ROLES)

_SELECT_JOB: Final = f"""
SELECT {_qualified("u", USER_COLUMNS)}, {_qualified("j", JOB_COLUMNS)}
FROM users u LEFT JOIN jobs j ON j.id = %(job_id)s
WHERE u.id = %(user_id)s
"""  # noqa: S608

# The job is inserted only for an active caller of an uploading role; its
# first event comes from the same statement (its foreign key is checked at
# the statement's end, when the job row is there).
_INSERT_CREATED_JOB: Final = f"""
WITH caller AS (
    SELECT {", ".join(USER_COLUMNS)} FROM users WHERE id = %(user_id)s
), job AS (
    INSERT INTO jobs (id, owner_id, status, filename, content_type, size_bytes, sha256,
                      labels, object_key, request_id, attempts)
    SELECT %(id)s, caller.id, %(status)s, %(filename)s, %(content_type)s, %(size_bytes)s,
           %(sha256)s, %(labels)s, %(object_key)s, %(request_id)s, 0
    FROM caller WHERE caller.is_active AND caller.role IN ({_UPLOADER_ROLES})
    RETURNING {", ".join(JOB_COLUMNS)}
), event AS (
    INSERT INTO job_events (job_id, from_status, to_status, actor, request_id)
    SELECT job.id, NULL, job.status, %(actor_prefix)s || caller.username, job.request_id
    FROM job, caller
)
SELECT {_qualified("caller", USER_COLUMNS)}, {_qualified("job", JOB_COLUMNS)}
FROM caller LEFT JOIN job ON true
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

log = get_logger(__name__)
_JOBS_CREATED: Final = JOB_TRANSITIONS.labels(state=JobState.CREATED.value)


def split_row(row: Sequence[Any] | None) -> tuple[Principal, JobRow | None]:
    """A hot-path row -> the caller (or Unauthenticated) and the job, if any."""
    user_values, job_values = (
        (row[: len(USER_COLUMNS)], row[len(USER_COLUMNS) :]) if row is not None else (None, [None])
    )
    principal = principal_from(user_values)
    return principal, JobRow(*job_values) if job_values[0] is not None else None


async def get_visible(
    conn: DriverConnection, *, job_id: uuid.UUID, user_id: uuid.UUID
) -> tuple[Principal, JobRow]:
    """The caller behind `user_id`, if still active, and the job, if they may
    see it (others' jobs are 'not found')."""
    cursor = await conn.execute(_SELECT_JOB, {"job_id": job_id, "user_id": user_id})
    principal, job = split_row(await cursor.fetchone())
    return principal, check_visible(job, job_id=job_id, user=principal)


async def create(
    conn: DriverConnection,
    settings: Settings,
    *,
    user_id: uuid.UUID,
    data: JobCreate,
    request_id: str | None,
    idempotency_key: str | None = None,
) -> tuple[JobRow, bool]:
    """A new job in `created` for the caller behind `user_id`; with an
    Idempotency-Key seen before (same body), the job made then. Returns the
    job and whether it is new."""
    check_acceptable(settings, data)
    job_id = uuid.uuid4()
    if idempotency_key is None:
        job = await _insert_created(
            conn, job_id=job_id, user_id=user_id, data=data, request_id=request_id
        )
    else:
        async with conn.transaction():
            caller = await (await conn.execute(_SELECT_CALLER, (user_id,))).fetchone()
            principal = principal_from(caller)
            require_uploader(principal)
            earlier = await _claim_idempotency_key(
                conn, user=principal, key=idempotency_key, data=data, job_id=job_id
            )
            if earlier is not None:
                _, job = await get_visible(conn, job_id=earlier, user_id=user_id)
                return job, False
            job = await _insert_created(
                conn, job_id=job_id, user_id=user_id, data=data, request_id=request_id
            )
    # Committed by now (autocommit, or the transaction above ended).
    _JOBS_CREATED.inc()
    log.info("job created", job_id=str(job_id), size_bytes=data.size_bytes)
    return job, True


async def _insert_created(
    conn: DriverConnection,
    *,
    job_id: uuid.UUID,
    user_id: uuid.UUID,
    data: JobCreate,
    request_id: str | None,
) -> JobRow:
    values = {
        "user_id": user_id,
        "id": job_id,
        "status": JobState.CREATED.value,
        "filename": data.filename,
        "content_type": data.content_type,
        "size_bytes": data.size_bytes,
        "sha256": data.sha256,
        "labels": Jsonb(data.labels),
        "object_key": object_key_for(job_id),
        "request_id": request_id,
        "actor_prefix": Actor.USER_PREFIX,
    }
    cursor = await conn.execute(_INSERT_CREATED_JOB, values)
    principal, job = split_row(await cursor.fetchone())
    # The statement inserted nothing for a caller without the role: say why.
    require_uploader(principal)
    if job is None:  # pragma: no cover - an active uploader's INSERT returns its row
        raise AssertionError("the job insert returned no row")
    return job


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

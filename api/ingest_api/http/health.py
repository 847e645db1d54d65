"""/healthz (the process lives) and /readyz (its dependencies answer and the
schema is current). /metrics is not here: `app.main` serves it on
METRICS_PORT, which the API's Service does not expose."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_api.core.db_errors import POSTGRES
from ingest_api.core.readiness import Readiness, checks_text
from ingest_api.http.problem import problem
from ingest_api.migrations import head_revision
from ingest_api.runtime import Runtime

router = APIRouter(tags=["health"])


async def schema_revision(session: AsyncSession) -> str | None:
    """The database's Alembic revision (None when never migrated)."""
    exists = await session.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
    if not exists:
        return None
    revision = await session.scalar(text("SELECT version_num FROM alembic_version"))
    return str(revision) if revision is not None else None


def schema_problem(revision: str | None, expected: str) -> str | None:
    """Why the schema is unfit for this code, or None when it is current (pure)."""
    if revision == expected:
        return None
    if revision is None:
        return f"the database has no schema; run `ingest-migrate` (expected revision {expected})"
    return (
        f"the database schema is at revision {revision} but this code expects {expected}; "
        "run `ingest-migrate`"
    )


def readiness_of(runtime: Runtime) -> Readiness:
    """PostgreSQL (at the schema this code expects), Redis and S3."""

    async def database() -> None:
        reason = schema_problem(await runtime.db.read(schema_revision), head_revision())
        if reason:
            raise RuntimeError(reason)

    return Readiness({POSTGRES: database, "redis": runtime.redis.ping, "s3": runtime.store.ping})


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers; dependencies are not checked (that is /readyz)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(request: Request) -> dict[str, Any] | JSONResponse:
    """Ready when PostgreSQL (at the expected schema), Redis and S3 answer;
    which one does not, and never why (that is in the log)."""
    readiness: Readiness = request.app.state.readiness
    results = await readiness.results()
    if all(results.values()):
        return {"status": "ready", "checks": checks_text(results)}
    failing = ", ".join(name for name, ok in results.items() if not ok)
    return problem(
        request,
        status=503,
        code="not-ready",
        title="Not ready",
        detail=f"not ready: {failing}",
        headers={"Retry-After": "5"},
        checks=checks_text(results),
    )

"""/healthz (the process lives), /readyz (its dependencies answer and the schema
is current) and /metrics (Prometheus)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_api.core.metrics import REGISTRY
from ingest_api.http.deps import RuntimeDep
from ingest_api.http.problem import problem
from ingest_api.migrations import head_revision
from ingest_api.runtime import Runtime

router = APIRouter(tags=["health"])

READINESS_TIMEOUT_SECONDS = 3.0


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


async def check_database(runtime: Runtime) -> None:
    revision = await runtime.db.read(schema_revision)
    reason = schema_problem(revision, head_revision())
    if reason:
        raise RuntimeError(reason)


async def check_redis(runtime: Runtime) -> None:
    await runtime.redis.ping()


async def check_storage(runtime: Runtime) -> None:
    await runtime.store.ping()


async def _run_check(check: Any, runtime: Runtime) -> str:
    try:
        await asyncio.wait_for(check(runtime), timeout=READINESS_TIMEOUT_SECONDS)
    except Exception as error:  # every failure is a "not ready", with its reason
        return f"failed: {error}" if str(error) else f"failed: {type(error).__name__}"
    return "ok"


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers; dependencies are not checked (that is /readyz)."""
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(request: Request, runtime: RuntimeDep) -> dict[str, Any] | JSONResponse:
    """Ready when PostgreSQL (at the expected schema), Redis and S3 answer."""
    names = ("postgres", "redis", "s3")
    results = await asyncio.gather(
        *(_run_check(check, runtime) for check in (check_database, check_redis, check_storage))
    )
    checks = dict(zip(names, results, strict=True))
    if all(result == "ok" for result in results):
        return {"status": "ready", "checks": checks}
    failing = ", ".join(name for name, result in checks.items() if result != "ok")
    return problem(
        request,
        status=503,
        code="not-ready",
        title="Not ready",
        detail=f"not ready: {failing}",
        headers={"Retry-After": "5"},
        checks=checks,
    )


@router.get("/metrics", include_in_schema=False)
async def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

"""The worker's own small HTTP side, on METRICS_PORT: /healthz (the consumer
loops are alive), /readyz (Redis and PostgreSQL answer; `core.readiness`)
and /metrics."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ingest_api.core.metrics import REGISTRY
from ingest_api.core.readiness import Readiness, checks_text
from ingest_api.runtime import Runtime


def create_health_app(runtime: Runtime, loops_alive: Callable[[], bool]) -> Starlette:
    async def healthz(_: Request) -> Response:
        if loops_alive():
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "consumer loops have stopped"}, status_code=503)

    readiness = Readiness(
        {
            "redis": runtime.redis.ping,
            "postgres": lambda: runtime.db.read(lambda session: session.execute(text("SELECT 1"))),
        }
    )

    async def readyz(_: Request) -> Response:
        results = await readiness.results()
        ready = all(results.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks_text(results)},
            status_code=200 if ready else 503,
        )

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics)]
    )

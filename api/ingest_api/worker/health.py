"""The worker's own small HTTP side, on METRICS_PORT: /healthz (the consumer
loops are alive and can read the stream), /readyz (Redis and PostgreSQL
answer; `core.readiness`) and /metrics."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ingest_api.core.db_errors import POSTGRES
from ingest_api.core.metrics import REGISTRY
from ingest_api.core.readiness import Readiness, checks_text
from ingest_api.runtime import Runtime


@dataclass
class ReadingHealth:
    """Whether the consumer loops can read the stream. A worker whose every
    read has failed for `unhealthy_after` seconds looks alive and does
    nothing; it says so, and its liveness probe has it restarted."""

    unhealthy_after: float
    clock: Callable[[], float] = field(default=time.monotonic)
    failing_since: float | None = None

    def read_succeeded(self) -> None:
        self.failing_since = None

    def read_failed(self) -> None:
        if self.failing_since is None:
            self.failing_since = self.clock()

    def problem(self) -> str | None:
        """Why the worker is unhealthy, or None."""
        if self.failing_since is None:
            return None
        failing_for = self.clock() - self.failing_since
        if failing_for < self.unhealthy_after:
            return None
        return f"cannot read the job stream for {failing_for:.0f} s"


def create_health_app(
    runtime: Runtime, loops_alive: Callable[[], bool], reading: ReadingHealth
) -> Starlette:
    async def healthz(_: Request) -> Response:
        if not loops_alive():
            return JSONResponse({"status": "consumer loops have stopped"}, status_code=503)
        problem = reading.problem()
        if problem is not None:
            return JSONResponse({"status": problem}, status_code=503)
        return JSONResponse({"status": "ok"})

    readiness = Readiness(
        {
            "redis": runtime.redis.ping,
            POSTGRES: lambda: runtime.db.read(lambda session: session.execute(text("SELECT 1"))),
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

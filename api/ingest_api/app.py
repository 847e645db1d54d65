"""Builds the FastAPI application and serves it (the `ingest-api` command).

Start-up: read and check the settings (production refuses unsafe ones),
connect, refuse to serve an outdated schema, create the bootstrap admin
while none exists, start the outbox relay and the queue's gauges. PostgreSQL being down at start-up
is not fatal: requests answer 503 until it returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from prometheus_client import start_http_server
from pydantic import ValidationError

from ingest_api import __version__
from ingest_api.api_keys.router import router as api_keys_router
from ingest_api.auth import passwords
from ingest_api.auth.identity import Authenticator
from ingest_api.auth.router import router as auth_router
from ingest_api.auth.throttle import LoginThrottle
from ingest_api.core.background import cancel_and_wait
from ingest_api.core.config import Settings, get_settings
from ingest_api.core.errors import Conflict, DependencyUnavailable
from ingest_api.core.logging import configure_logging, get_logger
from ingest_api.core.metrics import REGISTRY
from ingest_api.core.tracing import is_probe, start_tracing
from ingest_api.http.health import readiness_of, schema_problem, schema_revision
from ingest_api.http.health import router as health_router
from ingest_api.http.middleware import RateLimitMiddleware, RequestContextMiddleware
from ingest_api.http.openapi import install_openapi
from ingest_api.http.problem import install_problem_handlers
from ingest_api.http.rate_limit import RateLimiter
from ingest_api.http.request_limits import RequestLimitsMiddleware
from ingest_api.jobs.creation import JobCreations
from ingest_api.jobs.parts_router import router as parts_router
from ingest_api.jobs.reading import JobReads
from ingest_api.jobs.router import router as jobs_router
from ingest_api.migrations import head_revision
from ingest_api.queue.gauges import sample_forever
from ingest_api.queue.service import OutboxRelay
from ingest_api.runtime import Runtime
from ingest_api.users import service as users
from ingest_api.users.router import router as users_router

log = get_logger(__name__)


class SchemaOutdated(RuntimeError):
    """The database is not at the revision this code expects."""


async def check_schema(runtime: Runtime) -> None:
    """Refuse an outdated schema; tolerate an unreachable database."""
    try:
        revision = await runtime.db.transaction(schema_revision)
    except DependencyUnavailable:
        log.warning("database unreachable at start-up; serving 503 until it answers")
        return
    reason = schema_problem(revision, head_revision())
    if reason:
        raise SchemaOutdated(reason)


async def bootstrap_admin(runtime: Runtime) -> None:
    settings = runtime.settings
    if not (settings.bootstrap_admin_username and settings.bootstrap_admin_password):
        return
    username = settings.bootstrap_admin_username
    password_hash = await passwords.hash_new(settings.bootstrap_admin_password)
    try:
        created = await runtime.db.transaction(
            lambda session: users.ensure_bootstrap_admin(
                session, username=username, password_hash=password_hash
            )
        )
    except DependencyUnavailable:
        log.warning("database unreachable; the bootstrap admin waits for the next start")
        return
    except Conflict as error:  # serve anyway: a restart would not change it
        log.error("bootstrap admin not created", reason=error.detail)
        return
    if created:
        log.info("created the bootstrap admin", username=username)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    runtime: Runtime = app.state.runtime
    await check_schema(runtime)
    await bootstrap_admin(runtime)
    background = [
        asyncio.create_task(app.state.relay.run(), name="outbox-relay"),
        asyncio.create_task(
            sample_forever(
                runtime.redis,
                stream=runtime.settings.queue_stream,
                every_seconds=runtime.settings.queue_gauges_interval_seconds,
            ),
            name="queue-gauges",
        ),
    ]
    # What start-up built (modules, models, routes, the ORM's registry) lives
    # as long as the process: frozen, the collector stops scanning it on each
    # full collection, which otherwise stalls requests for tens of ms.
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        await cancel_and_wait(background)
        await app.state.job_creations.aclose()
        await app.state.job_reads.aclose()
        await runtime.close()


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """The API application, with its routes and middleware wired."""
    settings = settings or get_settings()
    runtime = runtime or Runtime.from_settings(settings)
    # /docs and /redoc serve Swagger UI and ReDoc from the package, not a
    # CDN: clusters are often air-gapped.
    app = FastAPIOffline(
        title="Ingest Service",
        version=__version__,
        description="Upload log files straight to object storage and follow their processing jobs.",
        lifespan=lifespan,
        debug=False,  # never leak tracebacks, even with DEBUG on
        # FastAPI's own OpenTelemetry span per request, when OTEL_* turned
        # tracing on (core.tracing); its per-operation spans would double the
        # cost (bench/tracing_overhead.py). Metrics are Prometheus', on METRICS_PORT.
        telemetry={
            "tracing": True,
            "operation_spans": False,
            "metrics": False,
            "logs": False,
            "exclude": is_probe,
        },
    )
    app.state.runtime = runtime
    app.state.relay = OutboxRelay(runtime.db, runtime.redis)
    app.state.job_creations = JobCreations(runtime.db, settings)
    app.state.job_reads = JobReads(runtime.db)
    app.state.authenticator = Authenticator(settings, runtime.db)
    app.state.readiness = readiness_of(runtime)
    app.state.login_throttle = LoginThrottle(
        runtime.redis,
        per_account=settings.login_attempts_per_account,
        per_client=settings.login_attempts_per_client,
    )
    app.state.limiter = RateLimiter(
        runtime.redis,
        limit_per_minute=settings.rate_limit_per_minute,
        trusted_proxies=settings.trusted_proxies,
    )

    install_problem_handlers(app)
    app.add_middleware(RequestLimitsMiddleware, max_bytes=settings.max_request_body_bytes)
    # Inside CORS, which answers preflights before they are counted.
    app.add_middleware(RateLimitMiddleware)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=[
                "X-Request-ID",
                "Retry-After",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
            ],
        )
    # Added last, so outermost: even CORS answers carry a request id.
    app.add_middleware(RequestContextMiddleware)

    routers = (health_router, auth_router, users_router, api_keys_router, jobs_router, parts_router)
    for router in routers:
        app.include_router(router)
    install_openapi(app, allowed_content_types=settings.allowed_content_types)
    return app


def load_settings() -> Settings:
    """The settings, or exit with every problem listed (never the values)."""
    try:
        return get_settings()
    except ValidationError as error:
        problems = [
            f"{'.'.join(str(p) for p in item['loc']) or 'settings'}: {item['msg']}"
            for item in error.errors()
        ]
        sys.exit("ingest-api: invalid configuration:\n  " + "\n  ".join(problems))


def preflight(settings: Settings) -> None:
    """Exit with a clear message on an outdated schema, before serving."""

    async def run() -> None:
        runtime = Runtime.from_settings(settings)
        try:
            await check_schema(runtime)
        finally:
            await runtime.close()

    try:
        asyncio.run(run())
    except SchemaOutdated as error:
        sys.exit(f"ingest-api: refusing to serve: {error}")


def main() -> None:
    """Serve the API with uvicorn on HOST:PORT."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.effective_log_format)
    start_tracing("ingest-api")
    preflight(settings)
    # Metrics on a port of their own (a thread of prometheus_client's): the
    # Service routes clients to PORT only, so /metrics is never public.
    start_http_server(settings.metrics_port, addr=settings.host, registry=REGISTRY)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        # Forwarding headers are interpreted by our rate limiter, for
        # trusted proxies only; uvicorn must not rewrite the peer first.
        proxy_headers=False,
        server_header=False,
        timeout_graceful_shutdown=20,
    )

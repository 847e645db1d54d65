"""Pure ASGI middleware: the request context (request id, metrics, access
log) and the rate limit.

Outermost of our middleware, so every response (errors included) carries
X-Request-ID, is counted by route template and is logged once. A client's
own X-Request-ID is kept when it is short and plain; otherwise we make one.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl

import structlog
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest_api.auth.credentials import Credential
from ingest_api.auth.identity import Authenticator
from ingest_api.core.errors import IngestError, RateLimited
from ingest_api.core.logging import get_logger
from ingest_api.core.metrics import HTTP_REQUEST_DURATION, HTTP_REQUESTS
from ingest_api.http.deps import CREDENTIAL_STATE, bearer_token
from ingest_api.http.problem import handle_domain_error, handle_unexpected
from ingest_api.http.rate_limit import (
    RATE_LIMIT_HEADERS_STATE,
    IPNetwork,
    RateLimiter,
    client_ip,
    ip_group,
)

REQUEST_ID_HEADER = "x-request-id"
# Letters, digits and a few separators: safe in logs, headers and URLs.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

log = get_logger("ingest_api.access")


def accept_request_id(value: str | None) -> str:
    """The client's request id if acceptable, else a fresh one."""
    if value is not None and REQUEST_ID_PATTERN.match(value):
        return value
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's path template (bounded label), never the raw path."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


def is_long_poll(scope: Scope) -> bool:
    """A request that asked to wait for a change (`?wait=N`, N > 0): how long
    it takes is the client's choice, so it stays out of the latency histogram
    (and of the p99 alert on it)."""
    for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
        if name == "wait":
            return value.strip() not in ("", "0")
    return False


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = accept_request_id(headers.get(REQUEST_ID_HEADER))
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                extra = scope["state"].get(RATE_LIMIT_HEADERS_STATE, {})
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                    # A browser must take each answer as the type it says
                    # (JSON, problem+json), never guess HTML from its bytes.
                    (b"x-content-type-options", b"nosniff"),
                    *((k.lower().encode(), v.encode()) for k, v in extra.items()),
                ]
            await send(message)

        # A keep-alive connection serves many requests in one task (one
        # context): start each request from a clean slate.
        structlog.contextvars.clear_contextvars()
        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_request_id)
            except Exception as error:
                if response_started:
                    raise
                handle = (
                    handle_domain_error if isinstance(error, IngestError) else handle_unexpected
                )
                response = await handle(Request(scope), error)
                await response(scope, receive, send_with_request_id)
            finally:
                self._observe(scope, status, time.perf_counter() - started)

    @staticmethod
    def _observe(scope: Scope, status: int, seconds: float) -> None:
        method: str = scope["method"]
        route = route_template(scope)
        label = metric_method(method)
        HTTP_REQUESTS.labels(method=label, route=route, status=str(status)).inc()
        if not is_long_poll(scope):
            HTTP_REQUEST_DURATION.labels(method=label, route=route).observe(seconds)
        fields: dict[str, Any] = {
            "method": method,
            "route": route,
            "path": scope["path"],
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
        }
        credential: Credential | None = scope["state"].get(CREDENTIAL_STATE)
        if credential is not None:  # who, and how they authenticated
            fields["user_id"] = str(credential.subject)
            fields["via"] = credential.via
        if route in {"/healthz", "/readyz"}:
            log.debug("request", **fields)
        else:
            log.info("request", **fields)


# Methods a metric names; any other (a client may send any token) is "other",
# so that no client can grow the metrics' label sets.
METRIC_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def metric_method(method: str) -> str:
    return method if method in METRIC_METHODS else "other"


def app_path(scope: Scope) -> str:
    """The path within the app: served under a root path (a proxy's prefix),
    the request's path starts with it, and the routes do not."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class RateLimitMiddleware:
    """Counts each request to the limited paths (the /v1 API) against its key,
    before routing: the token's subject when the bearer token verifies (no
    database involved), else the client's IP. A refused request never
    reaches a route. Inside the request-context middleware, which adds the
    RateLimit-* headers to whatever the answer is; inside CORS too, so
    preflight requests are not counted."""

    def __init__(self, app: ASGIApp, *, prefix: str = "/v1/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not app_path(scope).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        limiter: RateLimiter = request.app.state.limiter
        kind, key = await rate_limit_key(request, limiter)
        decision = await limiter.hit(key)
        scope.setdefault("state", {})[RATE_LIMIT_HEADERS_STATE] = {
            "RateLimit-Limit": str(decision.limit),
            "RateLimit-Remaining": str(decision.remaining),
            "RateLimit-Reset": str(decision.reset_seconds),
        }
        if decision.allowed:
            await self.app(scope, receive, send)
            return
        refused = RateLimited(
            f"more than {decision.limit} requests a minute; retry in {decision.reset_seconds} s",
            retry_after=decision.reset_seconds,
            key_kind=kind,
        )
        response = await handle_domain_error(request, refused)
        await response(scope, receive, send)


async def rate_limit_key(request: Request, limiter: RateLimiter) -> tuple[str, str]:
    """(kind, key): the identity behind a bearer credential that verifies
    (whatever its kind: several keys or tokens of one user share the user's
    budget), else the client's IP (forwarded addresses believed from
    trusted proxies only). The verified credential is left in the request's
    state for the route; a credential that fails is refused by the route."""
    token = bearer_token(request)
    if token:
        authenticator: Authenticator = request.app.state.authenticator
        try:
            credential = await authenticator.authenticate(token)
        except IngestError:
            pass
        else:
            request.scope.setdefault("state", {})[CREDENTIAL_STATE] = credential
            return "subject", f"sub:{credential.subject}"
    return "ip", f"ip:{client_group(request, limiter.trusted_proxies)}"


def client_group(request: Request, trusted_proxies: list[IPNetwork]) -> str:
    """The client's address as limits key it (`ip_group`); forwarded
    addresses are believed from trusted proxies only, every
    X-Forwarded-For line read (a proxy may add a line of its own)."""
    peer = request.client.host if request.client else None
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    return ip_group(client_ip(peer, forwarded, trusted_proxies))

"""The one place where a request's runtime, user and request id are resolved,
as Annotated aliases the routers declare."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from ingest_api.auth import service as auth
from ingest_api.auth.security import TokenType, decode_token
from ingest_api.core.errors import Forbidden, IngestError, RateLimited, Unauthenticated
from ingest_api.http.rate_limit import (
    RATE_LIMIT_HEADERS_STATE,
    RateLimiter,
    client_ip,
    parse_networks,
)
from ingest_api.queue.service import OutboxRelay
from ingest_api.runtime import Runtime
from ingest_api.users.models import Role, User

bearer = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_relay(request: Request) -> OutboxRelay:
    relay: OutboxRelay = request.app.state.relay
    return relay


def get_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


def get_request_id(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
RelayDep = Annotated[OutboxRelay, Depends(get_relay)]
RequestId = Annotated[str | None, Depends(get_request_id)]
Token = Annotated[str | None, Depends(bearer)]


async def get_current_user(runtime: RuntimeDep, token: Token) -> User:
    if not token:
        raise Unauthenticated("a bearer access token is required")
    return await runtime.db.transaction(
        lambda session: auth.authenticate(session, runtime.settings, access_token=token)
    )


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_admin(user: CurrentUser) -> User:
    if user.role != Role.ADMIN.value:
        raise Forbidden("only an admin may do this")
    return user


AdminUser = Annotated[User, Depends(require_admin)]


def rate_limit_key(request: Request, runtime: Runtime, token: str | None) -> tuple[str, str]:
    """(kind, key): the token's subject when it verifies, else the client's IP.
    Verified without the database: the limiter runs before anything costly."""
    if token:
        try:
            claims = decode_token(runtime.settings, token, expected=TokenType.ACCESS)
            return "subject", f"sub:{claims.subject}"
        except IngestError:
            pass
    peer = request.client.host if request.client else None
    trusted = parse_networks(runtime.settings.trusted_proxies)
    return "ip", f"ip:{client_ip(peer, request.headers.get('x-forwarded-for'), trusted)}"


async def enforce_rate_limit(request: Request, runtime: RuntimeDep, token: Token) -> None:
    kind, key = rate_limit_key(request, runtime, token)
    decision = await get_limiter(request).hit(key)
    # The request-context middleware adds these to whatever the response is,
    # errors included.
    request.scope.setdefault("state", {})[RATE_LIMIT_HEADERS_STATE] = {
        "RateLimit-Limit": str(decision.limit),
        "RateLimit-Remaining": str(decision.remaining),
        "RateLimit-Reset": str(decision.reset_seconds),
    }
    if not decision.allowed:
        raise RateLimited(
            f"more than {decision.limit} requests a minute; retry in {decision.reset_seconds} s",
            retry_after=decision.reset_seconds,
            key_kind=kind,
        )

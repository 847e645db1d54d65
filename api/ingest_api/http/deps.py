"""The one place where a request's runtime, user and request id are resolved,
as Annotated aliases the routers declare.

Every dependency here is `async def`: FastAPI runs a plain `def` dependency
in a worker thread, and that hop costs more than the work these do.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from ingest_api.auth import service as auth
from ingest_api.auth.security import TokenClaims, TokenType, decode_token
from ingest_api.core.errors import Forbidden, RateLimited, Unauthenticated
from ingest_api.http.rate_limit import RATE_LIMIT_HEADERS_STATE, RateLimiter, client_ip
from ingest_api.queue.service import OutboxRelay
from ingest_api.runtime import Runtime
from ingest_api.users.models import Role, User

bearer = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)

# Where a request's verified token (or why it failed) is kept, so that the
# rate limiter and the authentication decode it once between them.
_CLAIMS_STATE = "token_claims"


async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_relay(request: Request) -> OutboxRelay:
    relay: OutboxRelay = request.app.state.relay
    return relay


async def get_request_id(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
RelayDep = Annotated[OutboxRelay, Depends(get_relay)]
RequestId = Annotated[str | None, Depends(get_request_id)]
Token = Annotated[str | None, Depends(bearer)]


def verified_claims(request: Request, runtime: Runtime, token: str) -> TokenClaims:
    """Decode the access token once per request; raise Unauthenticated if bad."""
    state = request.scope.setdefault("state", {})
    cached: TokenClaims | Unauthenticated | None = state.get(_CLAIMS_STATE)
    if cached is None:
        try:
            cached = decode_token(runtime.settings, token, expected=TokenType.ACCESS)
        except Unauthenticated as error:
            cached = error
        state[_CLAIMS_STATE] = cached
    if isinstance(cached, Unauthenticated):
        raise cached
    return cached


async def get_current_user(request: Request, runtime: RuntimeDep, token: Token) -> User:
    if not token:
        raise Unauthenticated("a bearer access token is required")
    claims = verified_claims(request, runtime, token)
    return await runtime.db.read(lambda session: auth.active_user(session, user_id=claims.subject))


CurrentUser = Annotated[User, Depends(get_current_user)]


async def require_admin(user: CurrentUser) -> User:
    if user.role != Role.ADMIN.value:
        raise Forbidden("only an admin may do this")
    return user


AdminUser = Annotated[User, Depends(require_admin)]


def rate_limit_key(
    request: Request, runtime: Runtime, limiter: RateLimiter, token: str | None
) -> tuple[str, str]:
    """(kind, key): the token's subject when it verifies, else the client's IP.
    Verified without the database: the limiter runs before anything costly."""
    if token:
        try:
            return "subject", f"sub:{verified_claims(request, runtime, token).subject}"
        except Unauthenticated:
            pass
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-for")
    return "ip", f"ip:{client_ip(peer, forwarded, limiter.trusted_proxies)}"


async def enforce_rate_limit(request: Request, runtime: RuntimeDep, token: Token) -> None:
    limiter: RateLimiter = request.app.state.limiter
    kind, key = rate_limit_key(request, runtime, limiter, token)
    decision = await limiter.hit(key)
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

"""The one place where a request's runtime, user and request id are resolved,
as Annotated aliases the routers declare.

Every dependency here is `async def`: FastAPI runs a plain `def` dependency
in a worker thread, and that hop costs more than the work these do.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param

from ingest_api.auth import service as auth
from ingest_api.auth.security import AccessTokens, TokenClaims
from ingest_api.core.errors import Forbidden, Unauthenticated
from ingest_api.http.problem import request_id_of
from ingest_api.queue.service import OutboxRelay
from ingest_api.runtime import Runtime
from ingest_api.users.models import Principal, Role

bearer = OAuth2PasswordBearer(tokenUrl="/v1/auth/token", auto_error=False)


def runtime_of(request: Request) -> Runtime:
    """The app's Runtime. The hottest routes call this on the Request they take
    rather than declaring RuntimeDep: FastAPI spends about 40 us resolving
    each declared dependency, more than this lookup costs."""
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_runtime(request: Request) -> Runtime:
    return runtime_of(request)


async def get_relay(request: Request) -> OutboxRelay:
    relay: OutboxRelay = request.app.state.relay
    return relay


async def get_request_id(request: Request) -> str | None:
    return request_id_of(request)


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]
RelayDep = Annotated[OutboxRelay, Depends(get_relay)]
RequestId = Annotated[str | None, Depends(get_request_id)]
Token = Annotated[str | None, Depends(bearer)]


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer ...` header, as `bearer` reads it;
    for code that runs outside FastAPI's dependencies."""
    scheme, token = get_authorization_scheme_param(request.headers.get("authorization"))
    return token if scheme.lower() == "bearer" and token else None


def access_claims(request: Request, token: str | None) -> TokenClaims:
    """The verified access token, without the database: for the hot paths,
    whose own statement checks the user behind it (see jobs.sql)."""
    if not token:
        raise Unauthenticated("a bearer access token is required")
    tokens: AccessTokens = request.app.state.tokens
    return tokens.verify(token)


async def get_access_claims(request: Request, token: Token) -> TokenClaims:
    return access_claims(request, token)


AccessClaims = Annotated[TokenClaims, Depends(get_access_claims)]


async def get_current_user(claims: AccessClaims, runtime: RuntimeDep) -> Principal:
    """The active user behind the access token, looked up on every request."""
    return await runtime.db.run(lambda conn: auth.active_principal(conn, user_id=claims.subject))


CurrentUser = Annotated[Principal, Depends(get_current_user)]


async def require_admin(user: CurrentUser) -> Principal:
    if user.role != Role.ADMIN.value:
        raise Forbidden("only an admin may do this")
    return user


AdminUser = Annotated[Principal, Depends(require_admin)]

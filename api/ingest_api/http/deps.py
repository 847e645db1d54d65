"""The one place where a request's runtime, credential, user and request id
are resolved, as Annotated aliases the routers declare.

Every dependency here is `async def`: FastAPI runs a plain `def` dependency
in a worker thread, and that hop costs more than the work these do.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from fastapi.security.utils import get_authorization_scheme_param

from ingest_api.auth import service as auth
from ingest_api.auth.credentials import Credential, Scope
from ingest_api.auth.identity import Authenticator
from ingest_api.core.errors import Forbidden, Unauthenticated
from ingest_api.http.problem import request_id_of
from ingest_api.queue.service import OutboxRelay
from ingest_api.runtime import Runtime
from ingest_api.users.models import Principal, Role

bearer = OAuth2PasswordBearer(
    tokenUrl="/v1/auth/token",
    auto_error=False,
    description="an access token from /v1/auth/token, an API key (ingk_...), or an "
    "access token of a configured identity provider (OIDC, Kubernetes ServiceAccount)",
)
# Where the rate limiter leaves the credential it verified, for the route.
CREDENTIAL_STATE = "credential"


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


async def credential_of(request: Request, token: str | None) -> Credential:
    """The caller's verified credential: the rate limiter's, when it verified
    this request's token already. API keys and sessions' users are checked
    against the database by the routes (see jobs.sql), not here."""
    if not token:
        raise Unauthenticated("a bearer token is required: an access token or an API key")
    verified: Credential | None = request.scope.get("state", {}).get(CREDENTIAL_STATE)
    if verified is not None:
        return verified
    authenticator: Authenticator = request.app.state.authenticator
    return await authenticator.authenticate(token)


async def get_credential(request: Request, token: Token) -> Credential:
    return await credential_of(request, token)


async def get_job_reader(request: Request, token: Token) -> Credential:
    credential = await credential_of(request, token)
    credential.require(Scope.JOBS_READ)
    return credential


async def get_job_writer(request: Request, token: Token) -> Credential:
    credential = await credential_of(request, token)
    credential.require(Scope.JOBS_WRITE)
    return credential


AnyCredential = Annotated[Credential, Depends(get_credential)]
JobReader = Annotated[Credential, Depends(get_job_reader)]
JobWriter = Annotated[Credential, Depends(get_job_writer)]


async def user_of(runtime: Runtime, credential: Credential) -> Principal:
    """The active user behind a credential, looked up on every request."""
    principal = await runtime.db.run(
        lambda conn: auth.active_principal(conn, user_id=credential.subject)
    )
    return dataclasses.replace(principal, via=credential.via)


async def get_current_user(credential: AnyCredential, runtime: RuntimeDep) -> Principal:
    return await user_of(runtime, credential)


async def get_reading_user(credential: JobReader, runtime: RuntimeDep) -> Principal:
    return await user_of(runtime, credential)


async def get_writing_user(credential: JobWriter, runtime: RuntimeDep) -> Principal:
    return await user_of(runtime, credential)


async def get_key_manager(credential: AnyCredential, runtime: RuntimeDep) -> Principal:
    credential.require_interactive("manage API keys")
    return await user_of(runtime, credential)


async def require_admin(credential: AnyCredential, runtime: RuntimeDep) -> Principal:
    credential.require_interactive("manage users")
    user = await user_of(runtime, credential)
    if user.role != Role.ADMIN.value:
        raise Forbidden("only an admin may do this")
    return user


CurrentUser = Annotated[Principal, Depends(get_current_user)]
ReadingUser = Annotated[Principal, Depends(get_reading_user)]
WritingUser = Annotated[Principal, Depends(get_writing_user)]
KeyManager = Annotated[Principal, Depends(get_key_manager)]
AdminUser = Annotated[Principal, Depends(require_admin)]

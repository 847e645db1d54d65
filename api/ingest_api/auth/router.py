"""POST /v1/auth/token (OAuth2 password form), /refresh and /logout.

Token answers are never cached (`Cache-Control: no-store`, RFC 6749 5.1).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.security import OAuth2PasswordRequestForm

from ingest_api.auth import service
from ingest_api.auth.schemas import RefreshRequest, TokenPair
from ingest_api.auth.throttle import LoginThrottle
from ingest_api.core.config import Settings
from ingest_api.core.errors import Forbidden
from ingest_api.http.deps import RuntimeDep
from ingest_api.http.middleware import client_group
from ingest_api.http.responses import NO_STORE

router = APIRouter(prefix="/v1/auth", tags=["auth"])


def require_password_login(settings: Settings) -> None:
    if not settings.password_login:
        raise Forbidden(
            "password login is switched off here: use your identity provider's token or an API key"
        )


@router.post("/token", response_model=TokenPair)
async def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    runtime: RuntimeDep,
    request: Request,
    response: Response,
) -> TokenPair:
    """Log in with username and password; get an access and a refresh token.
    Attempts are limited per account and per client address."""
    response.headers.update(NO_STORE)
    require_password_login(runtime.settings)
    throttle: LoginThrottle = request.app.state.login_throttle
    await throttle.check(
        username=form.username,
        client=client_group(request, request.app.state.limiter.trusted_proxies),
    )
    return await service.login(
        runtime.db, runtime.settings, username=form.username, password=form.password
    )


@router.post("/refresh", response_model=TokenPair)
async def refresh_token(body: RefreshRequest, runtime: RuntimeDep, response: Response) -> TokenPair:
    """Trade a refresh token (usable once) for a new pair. A token used twice
    ends its session: every token of it stops working."""
    response.headers.update(NO_STORE)
    require_password_login(runtime.settings)
    return await service.refresh(runtime.db, runtime.settings, refresh_token=body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshRequest, runtime: RuntimeDep) -> None:
    """End the session of this refresh token: it and every token rotated
    from the same login stop working (access tokens run out within their
    short lifetime)."""
    await service.logout(runtime.db, runtime.settings, refresh_token=body.refresh_token)

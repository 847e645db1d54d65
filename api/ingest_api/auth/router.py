"""POST /v1/auth/token (OAuth2 password form) and POST /v1/auth/refresh."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from ingest_api.auth import service
from ingest_api.auth.schemas import RefreshRequest, TokenPair
from ingest_api.http.deps import RuntimeDep

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/token", response_model=TokenPair)
async def issue_token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], runtime: RuntimeDep
) -> TokenPair:
    """Log in with username and password; get an access and a refresh token."""
    return await runtime.db.transaction(
        lambda session: service.login(
            session, runtime.settings, username=form.username, password=form.password
        )
    )


@router.post("/refresh", response_model=TokenPair)
async def refresh_token(body: RefreshRequest, runtime: RuntimeDep) -> TokenPair:
    """Trade a refresh token (usable once) for a new pair."""
    return await runtime.db.transaction(
        lambda session: service.refresh(session, runtime.settings, refresh_token=body.refresh_token)
    )

"""Log in, rotate refresh tokens, and resolve the user behind an access token."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_api.auth.models import RefreshToken
from ingest_api.auth.schemas import TokenPair
from ingest_api.auth.security import TokenType, decode_token, encode_token, verify_password
from ingest_api.core.config import Settings
from ingest_api.core.driver_connections import DriverConnection
from ingest_api.core.errors import Unauthenticated
from ingest_api.core.storable import is_storable
from ingest_api.users import service as users
from ingest_api.users.models import Principal, User


async def login(
    session: AsyncSession, settings: Settings, *, username: str, password: str
) -> TokenPair:
    # A name PostgreSQL cannot hold (a NUL, a lone surrogate) names nobody;
    # it is not looked up, and costs the same password check as any other.
    user = (
        await users.get_by_username(session, username=username) if is_storable(username) else None
    )
    if not verify_password(password, user.password_hash if user else None) or user is None:
        raise Unauthenticated("wrong username or password")
    if not user.is_active:
        raise Unauthenticated("this user is disabled")
    return await issue_tokens(session, settings, user=user)


async def issue_tokens(
    session: AsyncSession, settings: Settings, *, user: User | Principal
) -> TokenPair:
    access, _ = encode_token(settings, subject=user.id, token_type=TokenType.ACCESS)
    refresh, refresh_claims = encode_token(settings, subject=user.id, token_type=TokenType.REFRESH)
    session.add(
        RefreshToken(jti=refresh_claims.jti, user_id=user.id, expires_at=refresh_claims.expires_at)
    )
    await session.flush()
    return TokenPair(
        access_token=access, refresh_token=refresh, expires_in=settings.access_token_ttl_seconds
    )


async def refresh(session: AsyncSession, settings: Settings, *, refresh_token: str) -> TokenPair:
    """Trade a refresh token for a new pair; the old one is spent."""
    claims = decode_token(settings, refresh_token, expected=TokenType.REFRESH)
    # FOR UPDATE: two concurrent refreshes with one token; only one wins.
    stored = await session.scalar(
        select(RefreshToken).where(RefreshToken.jti == claims.jti).with_for_update()
    )
    if stored is None or stored.user_id != claims.subject:
        raise Unauthenticated("the refresh token is not known")
    if stored.used_at is not None:
        raise Unauthenticated("the refresh token has already been used")
    stored.used_at = datetime.now(UTC)
    user = await active_user(session, user_id=claims.subject)
    return await issue_tokens(session, settings, user=user)


# The columns of users that `principal_from` reads, in its order.
USER_COLUMNS: Final = ("id", "username", "role", "is_active")
_ACTIVE_USER_SQL: Final = f"SELECT {', '.join(USER_COLUMNS)} FROM users WHERE id = %s"  # noqa: S608


def principal_from(row: Sequence[Any] | None) -> Principal:
    """(id, username, role, is_active) -> the Principal, if that user may act."""
    if row is None:
        raise Unauthenticated("the token's user no longer exists")
    user_id, username, role, is_active = row
    if not is_active:
        # Checked on every request, so disabling a user ends their tokens at once.
        raise Unauthenticated("this user is disabled")
    return Principal(id=user_id, username=username, role=role)


async def active_user(session: AsyncSession, *, user_id: uuid.UUID) -> Principal:
    """The user behind a token, within the caller's ORM transaction."""
    row = (
        await session.execute(
            select(User.id, User.username, User.role, User.is_active).where(User.id == user_id)
        )
    ).first()
    return principal_from(row)


async def active_principal(conn: DriverConnection, *, user_id: uuid.UUID) -> Principal:
    """The user behind an access token, on every request: one round trip on
    the driver's connection."""
    cursor = await conn.execute(_ACTIVE_USER_SQL, (user_id,))
    return principal_from(await cursor.fetchone())

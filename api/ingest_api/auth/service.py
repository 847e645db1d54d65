"""Log in, rotate refresh tokens, and resolve the user behind an access token."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_api.auth import passwords
from ingest_api.auth.models import RefreshToken
from ingest_api.auth.schemas import TokenPair
from ingest_api.auth.security import TokenType, decode_token, encode_token
from ingest_api.auth.sessions import REFUSALS, Family, RefreshVerdict, refresh_verdict, session_end
from ingest_api.core.config import Settings
from ingest_api.core.db import Database, DriverConnection
from ingest_api.core.errors import Unauthenticated
from ingest_api.core.logging import get_logger
from ingest_api.core.storable import is_storable
from ingest_api.users import service as users
from ingest_api.users.models import Principal, User

log = get_logger(__name__)


async def login(db: Database, settings: Settings, *, username: str, password: str) -> TokenPair:
    """Tokens of a new session for the right username and password. The
    password is checked off the event loop and outside any transaction."""
    # A name PostgreSQL cannot hold (a NUL, a lone surrogate) names nobody;
    # it is not looked up, and costs the same password check as any other.
    user = (
        await db.read(lambda session: users.get_by_username(session, username=username))
        if is_storable(username)
        else None
    )
    if not await passwords.verify(password, user.password_hash if user else None) or user is None:
        raise Unauthenticated("wrong username or password")
    if not user.is_active:
        raise Unauthenticated("this user is disabled")
    return await db.transaction(lambda session: issue_tokens(session, settings, user=user))


async def issue_tokens(
    session: AsyncSession,
    settings: Settings,
    *,
    user: User | Principal,
    family: Family | None = None,
) -> TokenPair:
    """An access and a refresh token; the refresh token continues `family`
    (a rotation) or starts one (a login), and expires with it at the latest."""
    now = datetime.now(UTC)
    access, _ = encode_token(settings, subject=user.id, token_type=TokenType.ACCESS, now=now)
    family_of_token = family or Family(id=uuid.uuid4(), started_at=now)
    refresh, refresh_claims = encode_token(
        settings,
        subject=user.id,
        token_type=TokenType.REFRESH,
        now=now,
        not_after=session_end(family_of_token.started_at, settings.session_max_seconds),
    )
    session.add(
        RefreshToken(
            jti=refresh_claims.jti,
            user_id=user.id,
            expires_at=refresh_claims.expires_at,
            family_id=family_of_token.id,
            family_started_at=family_of_token.started_at,
        )
    )
    await session.flush()
    return TokenPair(
        access_token=access, refresh_token=refresh, expires_in=settings.access_token_ttl_seconds
    )


async def refresh(db: Database, settings: Settings, *, refresh_token: str) -> TokenPair:
    """Trade a refresh token for a new pair; the old one is spent. A spent
    token presented again ends its whole session (a stolen chain dies with
    the victim's next refresh, or the thief's)."""
    claims = decode_token(settings, refresh_token, expected=TokenType.REFRESH)

    async def rotate(session: AsyncSession) -> TokenPair | RefreshVerdict:
        # FOR UPDATE: two concurrent refreshes with one token; only one wins.
        stored = await session.scalar(
            select(RefreshToken).where(RefreshToken.jti == claims.jti).with_for_update()
        )
        now = datetime.now(UTC)
        verdict = refresh_verdict(
            stored,
            subject=claims.subject,
            now=now,
            session_max_seconds=settings.session_max_seconds,
        )
        if verdict is not RefreshVerdict.ROTATE or stored is None:
            if verdict is RefreshVerdict.REUSED and stored is not None:
                # Committed with this transaction: the refusal below must not undo it.
                await end_family(session, family_id=stored.family_id, now=now)
            return verdict
        stored.used_at = now
        user = await active_user(session, user_id=claims.subject)
        family = Family(id=stored.family_id, started_at=stored.family_started_at)
        return await issue_tokens(session, settings, user=user, family=family)

    outcome = await db.transaction(rotate)
    if isinstance(outcome, RefreshVerdict):
        if outcome is RefreshVerdict.REUSED:
            log.warning("refresh token reused; its session is ended", user_id=str(claims.subject))
        raise Unauthenticated(REFUSALS[outcome])
    return outcome


async def logout(db: Database, settings: Settings, *, refresh_token: str) -> None:
    """End the session the refresh token belongs to (every token of it)."""
    claims = decode_token(settings, refresh_token, expected=TokenType.REFRESH)

    async def end(session: AsyncSession) -> None:
        stored = await session.get(RefreshToken, claims.jti)
        if stored is None or stored.user_id != claims.subject:
            raise Unauthenticated(REFUSALS[RefreshVerdict.UNKNOWN])
        await end_family(session, family_id=stored.family_id, now=datetime.now(UTC))

    await db.transaction(end)


async def end_family(session: AsyncSession, *, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


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

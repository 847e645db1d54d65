"""API keys: make, list, revoke, and authenticate a request by one.

A key is looked up on every request (one primary-key read), so revoking
it, or disabling its user, takes effect at the next request.
"""

from __future__ import annotations

import hmac
import uuid
from datetime import UTC, datetime, timedelta
from typing import Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_api.api_keys.format import new_key, parse_key
from ingest_api.api_keys.models import ApiKey
from ingest_api.api_keys.schemas import ApiKeyCreate
from ingest_api.auth.credentials import Credential, Method, Scope
from ingest_api.core.config import Settings
from ingest_api.core.db import DriverConnection
from ingest_api.core.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthenticated
from ingest_api.jobs.rules import UPLOADER_ROLES
from ingest_api.users.models import Principal, Role, User

# A key's last use is written at most this often: a busy key would
# otherwise turn every request into a write.
LAST_USED_PRECISION = timedelta(minutes=1)


def scopes_of_role(role: str) -> frozenset[Scope]:
    """The scopes a key of this role's user may hold: never more than the user."""
    return frozenset(Scope) if role in UPLOADER_ROLES else frozenset({Scope.JOBS_READ})


_SELECT_KEY: Final = (
    "SELECT user_id, secret_hash, scopes, expires_at, revoked_at, last_used_at "
    "FROM api_keys WHERE id = %s"
)
_TOUCH_KEY: Final = "UPDATE api_keys SET last_used_at = %s WHERE id = %s"


async def create(
    session: AsyncSession, settings: Settings, *, caller: Principal, data: ApiKeyCreate
) -> tuple[ApiKey, str]:
    """A new key for the caller (or, by an admin, for another user); returns
    its row and its text, which is never stored."""
    owner_id = data.user_id or caller.id
    if owner_id != caller.id and caller.role != Role.ADMIN.value:
        raise Forbidden("only an admin may make a key for another user")
    if data.expires_in_days > settings.api_key_max_days:
        raise InvalidRequest(
            f"a key lives at most {settings.api_key_max_days} days", field="expires_in_days"
        )
    # Locked: two concurrent creations cannot both pass the count below.
    owner = await session.get(User, owner_id, with_for_update=True)
    if owner is None or not owner.is_active:
        raise InvalidRequest(f"no active user has the id {owner_id}", field="user_id")
    excess = set(data.scopes) - scopes_of_role(owner.role)
    if excess:
        raise Forbidden(
            f"a '{owner.role}' user's key cannot hold {', '.join(sorted(excess))}",
        )
    now = datetime.now(UTC)
    active = await session.scalar(
        select(func.count())
        .select_from(ApiKey)
        .where(ApiKey.user_id == owner_id, ApiKey.revoked_at.is_(None), ApiKey.expires_at > now)
    )
    if (active or 0) >= settings.api_keys_per_user:
        raise Conflict(
            f"the user already has {settings.api_keys_per_user} active keys; revoke one first"
        )
    text, parsed = new_key()
    key = ApiKey(
        id=parsed.key_id,
        user_id=owner_id,
        name=data.name,
        secret_hash=parsed.secret_hash,
        scopes=sorted({scope.value for scope in data.scopes}),
        created_at=now,
        expires_at=now + timedelta(days=data.expires_in_days),
    )
    session.add(key)
    await session.flush()
    return key, text


async def list_visible(session: AsyncSession, *, caller: Principal) -> list[ApiKey]:
    """The caller's keys (every key, for an admin), newest first."""
    query = select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id)
    if caller.role != Role.ADMIN.value:
        query = query.where(ApiKey.user_id == caller.id)
    return list(await session.scalars(query))


async def revoke(session: AsyncSession, *, caller: Principal, key_id: uuid.UUID) -> ApiKey:
    """Revoke a key of the caller's (any key, for an admin); again is a no-op."""
    key = await session.get(ApiKey, key_id, with_for_update=True)
    if key is None or (key.user_id != caller.id and caller.role != Role.ADMIN.value):
        raise NotFound(f"API key {key_id} does not exist")
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
        await session.flush()
    return key


async def authenticate(conn: DriverConnection, token: str) -> Credential:
    """The credential an API key stands for, or Unauthenticated: one read,
    and a write at most once a minute per key (its last use)."""
    parsed = parse_key(token)
    if parsed is None:
        raise Unauthenticated("the API key is malformed")
    row = await (await conn.execute(_SELECT_KEY, (parsed.key_id,))).fetchone()
    if row is None or not hmac.compare_digest(bytes(row[1]), parsed.secret_hash):
        raise Unauthenticated("the API key is not valid")
    user_id, _, scopes, expires_at, revoked_at, last_used_at = row
    now = datetime.now(UTC)
    if revoked_at is not None:
        raise Unauthenticated("the API key was revoked")
    if expires_at <= now:
        raise Unauthenticated("the API key has expired")
    if last_used_at is None or now - last_used_at >= LAST_USED_PRECISION:
        await conn.execute(_TOUCH_KEY, (now, parsed.key_id))
    return Credential(
        subject=user_id,
        method=Method.API_KEY,
        source=str(parsed.key_id),
        scopes=frozenset(Scope(scope) for scope in scopes),
    )

"""Users: create, read, change role, disable; and the bootstrap admin.

Functions take the session they work in; the caller owns the transaction.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ingest_api.core.errors import Conflict, NotFound
from ingest_api.users.models import Role, User

# Serialises bootstrap across API replicas starting at once (any constant
# works; this one spells "ingest" in ASCII).
BOOTSTRAP_LOCK_ID = 0x696E67657374


async def get(session: AsyncSession, *, user_id: uuid.UUID) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


async def get_by_username(session: AsyncSession, *, username: str) -> User | None:
    result = await session.execute(select(User).where(User.username == username))
    return result.scalar_one_or_none()


async def list_all(session: AsyncSession) -> list[User]:
    result = await session.execute(select(User).order_by(User.created_at, User.id))
    return list(result.scalars())


async def create(session: AsyncSession, *, username: str, password_hash: str, role: Role) -> User:
    """A new user; hash the password beforehand (`auth.passwords`), outside
    the transaction."""
    user = User(id=uuid.uuid4(), username=username, password_hash=password_hash, role=role.value)
    session.add(user)
    try:
        # Flush inside a savepoint: a duplicate must not poison the
        # transaction the caller may still want to use.
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as error:
        raise Conflict(f"a user named '{username}' already exists") from error
    return user


async def update(
    session: AsyncSession, *, user_id: uuid.UUID, role: Role | None, is_active: bool | None
) -> User:
    user = await get(session, user_id=user_id)
    if user.issuer is not None and role is not None and role.value != user.role:
        # Its next token would set the role again: a change here would not last.
        raise Conflict(
            f"user {user.username} comes from an identity provider, which decides their role; "
            "change their groups there (an admin may still disable them)"
        )
    stays_admin = (role is None or role is Role.ADMIN) and is_active is not False
    if user.role == Role.ADMIN.value and user.is_active and not stays_admin:
        await _keep_an_admin(session, leaving=user.id)
    if role is not None:
        user.role = role.value
    if is_active is not None:
        user.is_active = is_active
    await session.flush()
    return user


async def _keep_an_admin(session: AsyncSession, *, leaving: uuid.UUID) -> None:
    """Refuse to let the last active admin go: nobody could manage users then.
    The active admins' rows are locked, so two admins demoting each other at
    once cannot both succeed."""
    admins = (
        await session.scalars(
            select(User.id)
            .where(User.role == Role.ADMIN.value, User.is_active.is_(True))
            .with_for_update()
        )
    ).all()
    if set(admins) <= {leaving}:
        raise Conflict(
            "the last active admin cannot be demoted or disabled; make another admin first"
        )


async def ensure_bootstrap_admin(
    session: AsyncSession, *, username: str, password_hash: str
) -> bool:
    """Create the admin from bootstrap credentials while no active admin
    exists. Returns True when it created one; Conflict when the name belongs
    to a user who is not an active admin (never promoted silently: the name
    may have been given to someone else)."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": BOOTSTRAP_LOCK_ID})
    admins = await session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.role == Role.ADMIN.value, User.is_active.is_(True))
    )
    if admins:
        return False
    if await get_by_username(session, username=username) is not None:
        raise Conflict(
            f"no active admin exists, and the bootstrap admin's name '{username}' belongs to "
            "a user who is not an active admin: make an admin with `ingest-admin create-user` "
            "or choose another BOOTSTRAP_ADMIN_USERNAME"
        )
    await create(session, username=username, password_hash=password_hash, role=Role.ADMIN)
    return True

"""/v1/users: admins manage users; anyone may read themselves at /v1/users/me."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from ingest_api.auth import passwords
from ingest_api.http.deps import AdminUser, CurrentUser, RuntimeDep
from ingest_api.users import service
from ingest_api.users.models import Role
from ingest_api.users.schemas import UserCreate, UserPublic, UsersPublic, UserUpdate

router = APIRouter(prefix="/v1/users", tags=["users"])


@router.get("/me", response_model=UserPublic)
async def read_me(user: CurrentUser, runtime: RuntimeDep) -> UserPublic:
    found = await runtime.db.read(lambda session: service.get(session, user_id=user.id))
    return UserPublic.model_validate(found)


@router.get("", response_model=UsersPublic)
async def list_users(_: AdminUser, runtime: RuntimeDep) -> UsersPublic:
    found = await runtime.db.read(service.list_all)
    return UsersPublic(data=[UserPublic.model_validate(user) for user in found])


@router.post("", response_model=UserPublic, status_code=status.HTTP_201_CREATED)
async def create_user(body: UserCreate, _: AdminUser, runtime: RuntimeDep) -> UserPublic:
    password_hash = await passwords.hash_new(body.password)
    user = await runtime.db.transaction(
        lambda session: service.create(
            session, username=body.username, password_hash=password_hash, role=Role(body.role)
        )
    )
    return UserPublic.model_validate(user)


@router.patch("/{user_id}", response_model=UserPublic)
async def update_user(
    user_id: uuid.UUID, body: UserUpdate, _: AdminUser, runtime: RuntimeDep
) -> UserPublic:
    """Change a user's role, or disable (is_active=false) them: their tokens stop working."""
    user = await runtime.db.transaction(
        lambda session: service.update(
            session, user_id=user_id, role=body.role, is_active=body.is_active
        )
    )
    return UserPublic.model_validate(user)

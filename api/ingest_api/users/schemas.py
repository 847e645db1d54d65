"""Request and response bodies of the users endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ingest_api.core.config import MIN_PASSWORD_CHARS
from ingest_api.users.models import Role

USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$"


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=USERNAME_PATTERN, description="3-64 letters, digits, . _ @ -")
    password: str = Field(
        min_length=MIN_PASSWORD_CHARS,
        max_length=256,
        description=f"at least {MIN_PASSWORD_CHARS} characters",
    )
    role: Role = Role.UPLOADER


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    is_active: bool | None = Field(
        default=None, description="false disables the user and their tokens"
    )


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    username: str
    role: Role
    is_active: bool
    created_at: datetime


class UsersPublic(BaseModel):
    data: list[UserPublic]

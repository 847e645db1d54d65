"""Request and response bodies of /v1/api-keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ingest_api.auth.credentials import Scope
from ingest_api.jobs.schemas import is_printable


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, max_length=100, description="what the key is for, e.g. 'ci upload'"
    )
    scopes: list[Scope] = Field(
        min_length=1, description="jobs:write (create, complete, cancel, retry), jobs:read"
    )
    expires_in_days: int = Field(
        default=90, ge=1, le=3650, description="at most API_KEY_MAX_DAYS (365 by default)"
    )
    user_id: uuid.UUID | None = Field(
        default=None, description="an admin may make a key for another user (a machine account)"
    )

    @field_validator("name")
    @classmethod
    def _shows_as_itself(cls, name: str) -> str:
        # People read it in listings: no control, invisible or surrogate characters.
        if not name.strip() or not is_printable(name):
            raise ValueError("must be printable text, not only spaces")
        return name


class ApiKeyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    prefix: str = Field(description="the key's first characters, to recognise it")
    user_id: uuid.UUID
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    key: str = Field(description="the key itself: shown this once, never again")


class ApiKeysPublic(BaseModel):
    data: list[ApiKeyPublic]

"""Request and response bodies of /v1/api-keys."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from ingest_api.auth.credentials import Scope

# Letters, digits, spaces and common punctuation: a name people read in a
# listing, never markup or control characters.
KEY_NAME_PATTERN = r"^[\w .,:;@/+#()=-]{1,100}$"


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=KEY_NAME_PATTERN, description="what the key is for, e.g. 'ci upload'")
    scopes: list[Scope] = Field(
        min_length=1, description="jobs:write (create, complete, cancel, retry), jobs:read"
    )
    expires_in_days: int = Field(
        default=90, ge=1, le=3650, description="at most API_KEY_MAX_DAYS (365 by default)"
    )
    user_id: uuid.UUID | None = Field(
        default=None, description="an admin may make a key for another user (a machine account)"
    )


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

"""The users table and the roles a user can hold."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, DateTime, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from ingest_api.core.db import Base


class Role(StrEnum):
    """admin: manage users, see every job; uploader: create and manage own
    jobs; viewer: read own jobs."""

    ADMIN = "admin"
    UPLOADER = "uploader"
    VIEWER = "viewer"


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role in ('admin', 'uploader', 'viewer')", name="ck_users_role_known"),
        UniqueConstraint("issuer", "external_subject", name="uq_users_issuer_external_subject"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # A local user's name is 3-64 characters without a colon; a user from an
    # identity provider is "<issuer name>:<subject>", so the two never meet.
    username: Mapped[str] = mapped_column(String(320), unique=True)
    # None for users from an identity provider: they never log in here.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    issuer: Mapped[str | None] = mapped_column(String(512))
    external_subject: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


@dataclass(frozen=True, slots=True)
class Principal:
    """The user a request acts for, as authentication found them (active):
    what permission checks and the job history read. A plain record rather
    than a row bound to a session, since it is resolved on every request."""

    id: uuid.UUID
    username: str
    role: str
    # How this request authenticated (`auth.credentials.Credential.via`),
    # for the jobs' history; None where no request is behind it.
    via: str | None = None

"""Refresh tokens, kept so that each can be used once and revoked."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, func
from sqlalchemy.orm import Mapped, mapped_column

from ingest_api.core.db import Base


class RefreshToken(Base):
    """One issued refresh token (by its `jti`). Rotation marks it used and
    issues the next of its family (the tokens of one login). A used token
    presented again means someone else holds the chain: the whole family is
    revoked. A family lives at most SESSION_MAX_SECONDS from its login."""

    __tablename__ = "refresh_tokens"

    jti: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    family_started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

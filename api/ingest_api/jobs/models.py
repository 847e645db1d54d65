"""The jobs table, its event history, and idempotency keys for creation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from ingest_api.core.db import Base
from ingest_api.core.db_types import StorableJSONB, StorableText


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        CheckConstraint(
            "status in ('created', 'queued', 'processing', 'completed', 'failed', 'cancelled')",
            name="ck_jobs_status_known",
        ),
        # Cursor pagination walks (created_at, id), per owner or for admins.
        Index("ix_jobs_owner_created", "owner_id", "created_at", "id"),
        Index("ix_jobs_created", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    owner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    labels: Mapped[dict[str, str]] = mapped_column(StorableJSONB, default=dict)
    object_key: Mapped[str] = mapped_column(String(512))
    request_id: Mapped[str | None] = mapped_column(String(128))
    attempts: Mapped[int] = mapped_column(default=0)
    failure_reason: Mapped[str | None] = mapped_column(StorableText)
    result: Mapped[dict[str, Any] | None] = mapped_column(StorableJSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    # Why a failed job failed, as a stable word for programs (`failure_reason`
    # is the sentence for people): `processing.errors` and the worker's own.
    failure_code: Mapped[str | None] = mapped_column(String(64))
    # How often the owner queued the job again after it failed (`/retry`).
    retries: Mapped[int] = mapped_column(default=0, server_default="0")
    # The object as `/complete` verified it: the worker reads exactly this
    # version, so a file replaced after verification is never processed.
    object_etag: Mapped[str | None] = mapped_column(Text)
    object_version: Mapped[str | None] = mapped_column(Text)
    # A file uploaded in parts: each part's size (all but the last), and the
    # storage's multipart upload id once the first part URLs were asked for.
    part_size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    upload_id: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True, slots=True)
class JobRow:
    """A job as the request hot paths read it with the driver's own SQL
    (`jobs.sql`): every column of `Job`, in table order, without the ORM."""

    id: uuid.UUID
    owner_id: uuid.UUID
    status: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str | None
    labels: dict[str, str]
    object_key: str
    request_id: str | None
    attempts: int
    failure_reason: str | None
    result: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    failure_code: str | None
    retries: int
    object_etag: str | None
    object_version: str | None
    part_size_bytes: int | None
    upload_id: str | None


class JobEvent(Base):
    """One committed state transition of a job: the job's history."""

    __tablename__ = "job_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(StorableText)
    # Unbounded: a worker's pod name (up to 253 characters) or a user's name.
    actor: Mapped[str] = mapped_column(StorableText)
    request_id: Mapped[str | None] = mapped_column(String(128))
    # How a user actor authenticated (`auth.credentials.Credential.via`).
    via: Mapped[str | None] = mapped_column(String(160))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IdempotencyKey(Base):
    """A client's Idempotency-Key for job creation, scoped to the user, with a
    fingerprint of the request body so a reused key with another body is caught."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    # Deferred: the key is claimed first (its unique index is what makes a
    # concurrent duplicate wait) and the job row follows in the same transaction.
    job_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE", deferrable=True, initially="DEFERRED")
    )
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )

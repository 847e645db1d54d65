"""Request and response bodies of the jobs endpoints, and input sanitising."""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator

from ingest_api.jobs.parts import (
    MAX_PART_BYTES,
    MAX_PARTS,
    MAX_PARTS_PER_REQUEST,
    MIN_PART_BYTES,
    part_count,
)
from ingest_api.jobs.states import JobState

MAX_LABELS = 20
LABEL_KEY_PATTERN = re.compile(r"[a-z0-9]([a-z0-9._/-]{0,61}[a-z0-9])?")
MAX_LABEL_VALUE = 256

# Characters a name shown to people must not hold: controls (NUL among
# them), lone surrogates (no UTF-8 can carry them, and PostgreSQL refuses
# them), format characters (a right-to-left override makes `report<RLO>gol.exe`
# read as `reportexe.log`) and the line and paragraph separators.
_UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cs", "Cf", "Zl", "Zp"})


def is_printable(text: str) -> bool:
    """True when `text` holds only characters that show as themselves."""
    return not any(unicodedata.category(ch) in _UNPRINTABLE_CATEGORIES for ch in text)


def sanitize_filename(raw: str) -> str:
    """The file's own name: no folders (a browser may send C:\\fakepath\\x.log),
    no control or invisible characters, at most 255 bytes. Raises ValueError otherwise."""
    if not is_printable(raw):
        raise ValueError("must not contain control, format or surrogate characters")
    name = re.split(r"[\\/]", raw)[-1].strip()
    if name in {"", ".", ".."}:
        raise ValueError("must name a file, not a folder")
    if len(name.encode()) > 255:
        raise ValueError("must be at most 255 bytes long")
    return name


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=1024, description="the file's name (no folders)")
    content_type: str = Field(min_length=3, max_length=127, description="one of the allowed types")
    size_bytes: int = Field(gt=0, description="exact size of the file; storage enforces it")
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$", description="hex digest")
    labels: dict[str, str] = Field(default_factory=dict, description="up to 20 key/value labels")
    multipart: bool | None = Field(
        default=None,
        description="upload in parts (true) or in one POST (false); by default, in parts "
        "above MULTIPART_THRESHOLD_BYTES (and always above 5 GiB)",
    )
    part_size_bytes: int | None = Field(
        default=None,
        ge=MIN_PART_BYTES,
        le=MAX_PART_BYTES,
        description="the size of every part but the last (5 MiB to 5 GiB, at most 10,000 "
        "parts); by default MULTIPART_PART_BYTES, grown to fit",
    )

    @field_validator("filename")
    @classmethod
    def _filename(cls, value: str) -> str:
        return sanitize_filename(value)

    @field_validator("content_type")
    @classmethod
    def _content_type(cls, value: str) -> str:
        return value.strip().lower()

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > MAX_LABELS:
            raise ValueError(f"at most {MAX_LABELS} labels")
        for key, label in value.items():
            if not LABEL_KEY_PATTERN.fullmatch(key):
                raise ValueError(f"label key {key!r} must be lowercase letters, digits, . _ / -")
            if len(label) > MAX_LABEL_VALUE or not is_printable(label):
                raise ValueError(
                    f"label {key!r} must be at most {MAX_LABEL_VALUE} printable characters"
                )
        return value


class UploadPublic(BaseModel):
    """POST the form `fields` plus the file (as the last field, `file`) to `url`."""

    method: str = "POST"
    url: str
    fields: dict[str, str]
    expires_at: datetime


class JobPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    owner_id: uuid.UUID
    status: JobState
    filename: str
    content_type: str
    size_bytes: int
    sha256: str | None
    labels: dict[str, str]
    attempts: int
    failure_reason: str | None
    failure_code: str | None = Field(
        description="why a failed job failed, as a stable word: corrupt_input, "
        "unsupported_input, not_text, limit_exceeded, checksum_mismatch, missing_object, "
        "object_replaced, internal_error, dead_lettered, lost_repeatedly"
    )
    retries: int = Field(description="how often the job was queued again with /retry")
    part_size_bytes: int | None = Field(
        description="a file uploaded in parts: the size of each part but the last; "
        "null for a file uploaded in one POST"
    )
    request_id: str | None
    created_at: datetime
    updated_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def part_count(self) -> int | None:
        """How many parts the file is uploaded in (null: one POST)."""
        if self.part_size_bytes is None:
            return None
        return part_count(self.size_bytes, self.part_size_bytes)


class JobCreated(JobPublic):
    upload: UploadPublic | None = Field(
        description="where to upload the file in one POST; null for a file uploaded in "
        "parts (ask POST /v1/jobs/{id}/parts for their URLs), and when an Idempotency-Key "
        "replay finds the job past `created`"
    )


class PartRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    part_number: int = Field(ge=1, le=MAX_PARTS)
    sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="the part's SHA-256 (hex): storage then refuses any other bytes",
    )


class PartsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parts: list[PartRequest] = Field(min_length=1, max_length=MAX_PARTS_PER_REQUEST)


class PartUploadPublic(BaseModel):
    """PUT exactly `size_bytes` bytes to `url`, with `headers`."""

    part_number: int
    size_bytes: int
    method: str = "PUT"
    url: str
    headers: dict[str, str]


class PartUploadsPublic(BaseModel):
    parts: list[PartUploadPublic]
    expires_at: datetime


class StoredPartPublic(BaseModel):
    part_number: int
    size_bytes: int
    etag: str
    sha256: str | None = Field(description="base64, when the part was sent with one")


class StoredPartsPublic(BaseModel):
    part_size_bytes: int
    part_count: int
    parts: list[StoredPartPublic] = Field(description="the parts storage holds, in order")


class JobsPublic(BaseModel):
    data: list[JobPublic]
    next_cursor: str | None = Field(
        description="pass as `cursor` for the next page; null at the end"
    )


class JobEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: JobState | None
    to_status: JobState
    reason: str | None
    actor: str
    via: str | None = Field(
        description="how the acting user authenticated: session, api-key:<key id>, "
        "oidc:<provider>, kubernetes:<cluster>; null for workers"
    )
    request_id: str | None
    created_at: datetime


class JobEventsPublic(BaseModel):
    data: list[JobEventPublic]


class JobResultPublic(BaseModel):
    job_id: uuid.UUID
    summary: dict[str, Any]
    download_url: str | None
    download_expires_at: datetime | None

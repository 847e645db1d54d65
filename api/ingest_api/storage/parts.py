"""A part of a multipart upload, as storage lists it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoredPart:
    number: int
    size: int
    etag: str
    sha256: str | None = None  # base64, when the part was sent with one

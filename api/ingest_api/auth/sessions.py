"""Sessions: a login and the refresh tokens rotated from it (pure rules).

Each refresh token is used once, and gives the next of its family. A used
token presented again means two parties hold the chain (a stolen token, or
a client that lost an answer): the whole family ends, so a thief's chain
dies at the victim's next refresh, or the victim's at the thief's. A family
lives SESSION_MAX_SECONDS from its login at most, however often refreshed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

from ingest_api.auth.models import RefreshToken


@dataclass(frozen=True)
class Family:
    """The refresh tokens of one login: they share an id and a start."""

    id: uuid.UUID
    started_at: datetime


class RefreshVerdict(StrEnum):
    ROTATE = "rotate"
    UNKNOWN = "unknown"
    ENDED = "ended"
    REUSED = "reused"
    TOO_OLD = "too_old"


REFUSALS: Final = {
    RefreshVerdict.UNKNOWN: "the refresh token is not known",
    RefreshVerdict.ENDED: "the session was ended; log in again",
    RefreshVerdict.REUSED: "the refresh token was already used, so the session is ended "
    "(if that was not you, someone else holds your tokens); log in again",
    RefreshVerdict.TOO_OLD: "the session is older than the longest one allowed; log in again",
}


def refresh_verdict(
    stored: RefreshToken | None, *, subject: uuid.UUID, now: datetime, session_max_seconds: int
) -> RefreshVerdict:
    """What presenting this refresh token means (pure)."""
    if stored is None or stored.user_id != subject:
        return RefreshVerdict.UNKNOWN
    if stored.revoked_at is not None:
        return RefreshVerdict.ENDED
    if stored.used_at is not None:
        return RefreshVerdict.REUSED
    if now >= session_end(stored.family_started_at, session_max_seconds):
        return RefreshVerdict.TOO_OLD
    return RefreshVerdict.ROTATE


def session_end(started_at: datetime, session_max_seconds: int) -> datetime:
    return started_at + timedelta(seconds=session_max_seconds)

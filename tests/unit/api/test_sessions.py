"""What presenting a refresh token means (pure)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from ingest_api.auth.models import RefreshToken
from ingest_api.auth.sessions import RefreshVerdict, refresh_verdict

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
USER = uuid.uuid4()
MAX = 3600


def token(**values: object) -> RefreshToken:
    defaults: dict[str, object] = {
        "jti": uuid.uuid4(), "user_id": USER, "family_id": uuid.uuid4(),
        "family_started_at": NOW - timedelta(minutes=5), "used_at": None, "revoked_at": None,
    }  # fmt: skip
    return RefreshToken(**{**defaults, **values})


@pytest.mark.parametrize(
    ("stored", "verdict"),
    [
        (token(), RefreshVerdict.ROTATE),
        (None, RefreshVerdict.UNKNOWN),
        (token(user_id=uuid.uuid4()), RefreshVerdict.UNKNOWN),
        (token(revoked_at=NOW, used_at=NOW), RefreshVerdict.ENDED),
        (token(used_at=NOW), RefreshVerdict.REUSED),
        (token(family_started_at=NOW - timedelta(seconds=MAX)), RefreshVerdict.TOO_OLD),
        (token(family_started_at=NOW - timedelta(seconds=MAX - 1)), RefreshVerdict.ROTATE),
    ],
    ids=["fresh", "unknown", "another-users", "ended", "reused", "too-old", "just-in-time"],
)
def test_a_refresh_token_is_judged(stored: RefreshToken | None, verdict: RefreshVerdict) -> None:
    assert refresh_verdict(stored, subject=USER, now=NOW, session_max_seconds=MAX) is verdict

"""Passwords and tokens, without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from ingest_api.auth.security import (
    AccessTokens,
    TokenType,
    decode_token,
    encode_token,
    hash_password,
    verify_password,
)
from ingest_api.core.config import Settings
from ingest_api.core.errors import Unauthenticated

SETTINGS = Settings(_env_file=None, jwt_secret_key="unit-test-secret-" + "k" * 64)  # type: ignore[call-arg]


def test_password_round_trip_with_argon2() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert verify_password("correct horse battery", hashed)
    assert not verify_password("wrong", hashed)
    assert not verify_password("anything", None)


def test_token_round_trip_keeps_subject_and_type() -> None:
    subject = uuid.uuid4()
    token, claims = encode_token(SETTINGS, subject=subject, token_type=TokenType.ACCESS)
    decoded = decode_token(SETTINGS, token, expected=TokenType.ACCESS)
    assert decoded.subject == subject
    assert decoded.jti == claims.jti


def test_access_and_refresh_are_not_interchangeable() -> None:
    token, _ = encode_token(SETTINGS, subject=uuid.uuid4(), token_type=TokenType.REFRESH)
    with pytest.raises(Unauthenticated, match="access token is required"):
        decode_token(SETTINGS, token, expected=TokenType.ACCESS)


def test_expired_tokens_are_refused() -> None:
    issued = datetime.now(UTC) - timedelta(seconds=SETTINGS.access_token_ttl_seconds + 60)
    token, _ = encode_token(SETTINGS, subject=uuid.uuid4(), token_type=TokenType.ACCESS, now=issued)
    with pytest.raises(Unauthenticated, match="expired"):
        decode_token(SETTINGS, token, expected=TokenType.ACCESS)


def test_a_token_from_a_replica_whose_clock_runs_ahead_is_accepted() -> None:
    """Review L8: another replica's `iat` may lie a few seconds in our future."""
    ahead = datetime.now(UTC) + timedelta(seconds=10)
    token, _ = encode_token(SETTINGS, subject=uuid.uuid4(), token_type=TokenType.ACCESS, now=ahead)
    assert decode_token(SETTINGS, token, expected=TokenType.ACCESS).token_type is TokenType.ACCESS
    far = datetime.now(UTC) + timedelta(minutes=5)
    token, _ = encode_token(SETTINGS, subject=uuid.uuid4(), token_type=TokenType.ACCESS, now=far)
    with pytest.raises(Unauthenticated, match="not yet valid"):
        decode_token(SETTINGS, token, expected=TokenType.ACCESS)


def test_the_leeway_does_not_extend_expiry() -> None:
    ttls = {
        TokenType.ACCESS: SETTINGS.access_token_ttl_seconds,
        TokenType.REFRESH: SETTINGS.refresh_token_ttl_seconds,
    }
    for token_type, ttl in ttls.items():
        issued = datetime.now(UTC) - timedelta(seconds=ttl + 5)
        token, _ = encode_token(SETTINGS, subject=uuid.uuid4(), token_type=token_type, now=issued)
        with pytest.raises(Unauthenticated, match="expired"):
            decode_token(SETTINGS, token, expected=token_type)


@pytest.mark.parametrize("missing", ["exp", "iat", "iss", "aud", "sub", "jti"])
def test_every_required_claim_is_required(missing: str) -> None:
    now = datetime.now(UTC)
    payload = {
        "sub": str(uuid.uuid4()), "type": "access", "jti": str(uuid.uuid4()), "iat": now,
        "exp": now + timedelta(minutes=1), "iss": SETTINGS.jwt_issuer, "aud": SETTINGS.jwt_audience,
    }  # fmt: skip
    del payload[missing]
    token = jwt.encode(payload, SETTINGS.jwt_secret_key, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        decode_token(SETTINGS, token, expected=TokenType.ACCESS)


def test_another_algorithm_is_refused_even_with_the_right_key() -> None:
    now = datetime.now(UTC)
    payload = {
        "sub": str(uuid.uuid4()), "type": "access", "jti": str(uuid.uuid4()), "iat": now,
        "exp": now + timedelta(minutes=1), "iss": SETTINGS.jwt_issuer, "aud": SETTINGS.jwt_audience,
    }  # fmt: skip
    token = jwt.encode(payload, SETTINGS.jwt_secret_key, algorithm="HS512")
    with pytest.raises(Unauthenticated, match="alg"):
        decode_token(SETTINGS, token, expected=TokenType.ACCESS)


def test_a_remembered_token_is_still_refused_once_it_expires() -> None:
    tokens = AccessTokens(SETTINGS)
    token, issued = encode_token(SETTINGS, subject=uuid.uuid4(), token_type=TokenType.ACCESS)
    claims = tokens.verify(token)
    assert (claims.subject, claims.jti) == (issued.subject, issued.jti)
    assert tokens.verify(token, now=claims.expires_at - timedelta(seconds=1)) is claims
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.verify(token, now=claims.expires_at)


def test_tokens_that_fail_are_not_remembered_and_the_cache_is_bounded() -> None:
    tokens = AccessTokens(SETTINGS, capacity=2)
    refresh, _ = encode_token(SETTINGS, subject=uuid.uuid4(), token_type=TokenType.REFRESH)
    for _ in range(2):
        with pytest.raises(Unauthenticated, match="access token is required"):
            tokens.verify(refresh)
    good = [
        encode_token(SETTINGS, subject=uuid.uuid4(), token_type=TokenType.ACCESS)[0]
        for _ in range(3)
    ]
    for token in good:
        tokens.verify(token)
    assert [token for token in good if tokens.cached(token)] == good[1:]

"""Password hashing and JSON Web Tokens (pure: no I/O).

Tokens follow RFC 8725: the algorithm is pinned (a token naming another,
`none` included, is refused), `exp`, `iat`, `iss`, `aud`, `sub` and our
`type` claim are required and checked, and access and refresh tokens are
distinct types validated separately, so one can never stand in for the other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from ingest_api.auth.token_cache import TokenCache
from ingest_api.core.config import Settings
from ingest_api.core.errors import Unauthenticated

PASSWORD_HASH = PasswordHash((Argon2Hasher(),))
# Verified against when the user does not exist, so that the answer takes as
# long as for a wrong password and does not reveal which usernames exist.
_DUMMY_HASH = PASSWORD_HASH.hash("not-a-real-password")

REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "type", "jti"]
# Replicas' clocks differ a little: a token issued by one whose clock runs
# ahead has an `iat` in another's future, which PyJWT refuses without
# leeway. Expiry stays exact: `check_unexpired` checks `exp` itself.
CLOCK_SKEW_SECONDS = 30


class TokenType(StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


@dataclass(frozen=True)
class TokenClaims:
    subject: uuid.UUID
    token_type: TokenType
    jti: uuid.UUID
    expires_at: datetime


def hash_password(password: str) -> str:
    return PASSWORD_HASH.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check a password; with no hash (unknown user) spend the same time, then fail."""
    if password_hash is None:
        PASSWORD_HASH.verify(password, _DUMMY_HASH)
        return False
    return PASSWORD_HASH.verify(password, password_hash)


def encode_token(
    settings: Settings,
    *,
    subject: uuid.UUID,
    token_type: TokenType,
    now: datetime | None = None,
    not_after: datetime | None = None,
    extra: dict[str, Any] | None = None,
) -> tuple[str, TokenClaims]:
    """Sign a token of the given type for the subject; return it and its
    claims. It expires after its type's TTL, or at `not_after` if sooner."""
    issued = now or datetime.now(UTC)
    ttl = (
        settings.access_token_ttl_seconds
        if token_type is TokenType.ACCESS
        else settings.refresh_token_ttl_seconds
    )
    expires_at = issued + timedelta(seconds=ttl)
    claims = TokenClaims(
        subject=subject,
        token_type=token_type,
        jti=uuid.uuid4(),
        expires_at=min(expires_at, not_after) if not_after else expires_at,
    )
    payload = {
        **(extra or {}),
        "sub": str(subject),
        "type": token_type.value,
        "jti": str(claims.jti),
        "iat": issued,
        "exp": claims.expires_at,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    token = jwt.encode(payload, settings.jwt_secret_key, algorithm=settings.jwt_algorithm)
    return token, claims


def decode_token(settings: Settings, token: str, *, expected: TokenType) -> TokenClaims:
    """Verify signature, algorithm, expiry, issuer, audience and type; or raise
    Unauthenticated with a reason safe to show the client."""
    try:
        payload = jwt.decode(
            token,
            settings.jwt_secret_key,
            algorithms=[settings.jwt_algorithm],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": REQUIRED_CLAIMS},
            leeway=CLOCK_SKEW_SECONDS,
        )
    except jwt.ExpiredSignatureError as error:
        raise Unauthenticated("the token has expired") from error
    except jwt.InvalidTokenError as error:
        raise Unauthenticated(f"the token is invalid: {error}") from error
    if payload.get("type") != expected.value:
        raise Unauthenticated(f"a {expected.value} token is required")
    try:
        claims = TokenClaims(
            subject=uuid.UUID(str(payload["sub"])),
            token_type=expected,
            jti=uuid.UUID(str(payload["jti"])),
            expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
        )
    except (ValueError, TypeError) as error:
        raise Unauthenticated("the token's subject or id is malformed") from error
    check_unexpired(claims)
    return claims


def check_unexpired(claims: TokenClaims, now: datetime | None = None) -> None:
    """Expired from the second `exp` names, whatever leeway `iat` has."""
    if claims.expires_at <= (now or datetime.now(UTC)):
        raise Unauthenticated("the token has expired")


class AccessTokens:
    """Verifies the service's own access tokens, remembering good ones
    (`TokenCache`); expiry is exact, whatever leeway `iat` has."""

    def __init__(self, settings: Settings, *, capacity: int = 4096) -> None:
        self.settings = settings
        self._verified: TokenCache[TokenClaims] = TokenCache(capacity)

    def cached(self, token: str, *, now: datetime | None = None) -> TokenClaims | None:
        """The claims of a token verified before and still unexpired."""
        return self._verified.get(token, now=now)

    def verify(self, token: str, *, now: datetime | None = None) -> TokenClaims:
        """The token's claims, or Unauthenticated as `decode_token` words it."""
        claims = self.cached(token, now=now)
        if claims is None:
            claims = decode_token(self.settings, token, expected=TokenType.ACCESS)
            check_unexpired(claims, now)
            self._verified.put(token, claims, expires_at=claims.expires_at)
        return claims

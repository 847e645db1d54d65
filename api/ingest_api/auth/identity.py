"""Who is calling: a bearer token of any kind in, a `Credential` out.

    ingk_...            an API key: looked up on every request (`api_keys`)
    a JWT whose `iss`   is this service's: a session's access token
                        is a trusted provider's: that provider verifies it,
                        and its subject becomes a user the first time
    anything else       401

The token's `iss` only chooses who verifies it, with the keys and
algorithms configured for that issuer: a token naming our issuer is checked
with our HMAC key alone, one naming a provider with that provider's public
keys alone, so no token can pick its own way in.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Final

import jwt
from psycopg import errors as pg_errors

from ingest_api.api_keys import service as api_keys
from ingest_api.api_keys.format import looks_like_key
from ingest_api.auth.credentials import Credential, Method
from ingest_api.auth.providers import Provider, Verified
from ingest_api.auth.security import AccessTokens, TokenClaims
from ingest_api.auth.token_cache import TokenCache
from ingest_api.core.config import Settings
from ingest_api.core.db import Database, DriverConnection
from ingest_api.core.errors import Conflict, Forbidden, Unauthenticated
from ingest_api.core.storable import is_storable

# Users of providers remembered by each process (their ids and roles).
MAX_REMEMBERED_USERS: Final = 100_000
# A provider's user: found by (issuer, subject), made on first sight; the
# provider decides the role, so a changed role is written. An admin's
# "disabled" stays.
_ENSURE_USER: Final = """
INSERT INTO users (id, username, password_hash, role, is_active, issuer, external_subject)
VALUES (%s, %s, NULL, %s, true, %s, %s)
ON CONFLICT (issuer, external_subject) DO UPDATE SET role = EXCLUDED.role, updated_at = now()
RETURNING id
"""


def session_credential(claims: TokenClaims) -> Credential:
    return Credential(subject=claims.subject, method=Method.SESSION)


def unverified_issuer(token: str) -> str:
    """The `iss` a JWT claims, read without verifying it: only to choose who
    verifies it."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError as error:
        raise Unauthenticated(f"the token is invalid: {error}") from error
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else ""


async def ensure_user(conn: DriverConnection, provider: Provider, verified: Verified) -> uuid.UUID:
    """The user a provider's subject is here, made or updated."""
    username = f"{provider.name}:{verified.subject}"
    if not (is_storable(username) and is_storable(verified.issuer)):
        raise Unauthenticated("the token's subject or issuer holds characters no name may")
    values = (uuid.uuid4(), username, verified.role, verified.issuer, verified.subject)
    try:
        row = await (await conn.execute(_ENSURE_USER, values)).fetchone()
    except pg_errors.UniqueViolation as error:
        raise Conflict(
            f"the user name '{username}' belongs to a user of another issuer; "
            "rename one of the identity providers"
        ) from error
    assert row is not None  # noqa: S101 - INSERT ... RETURNING returns its row
    user_id: uuid.UUID = row[0]
    return user_id


class ProviderIdentities:
    """Tokens of the trusted providers: verified in a thread (key fetches
    block), remembered until they expire, their users made on first sight."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.providers = [Provider(config) for config in settings.oidc_issuers]
        if settings.kubernetes_identity:
            self.providers.append(Provider(settings.kubernetes_identity))
        self._db = db
        self._verified: TokenCache[Credential] = TokenCache()
        # (issuer, subject) -> (user id, role): a user's row is written when
        # first seen and when the provider gives them another role.
        self._users: dict[tuple[str, str], tuple[uuid.UUID, str]] = {}

    def cached(self, token: str) -> Credential | None:
        return self._verified.get(token)

    async def provider_for(self, issuer: str) -> Provider | None:
        """The provider whose issuer this is; a cluster's issuer is learnt
        from its API server the first time it is needed."""
        for provider in self.providers:
            if provider.issuer is None:
                await asyncio.to_thread(provider.discover)
            if provider.issuer == issuer:
                return provider
        return None

    async def authenticate(self, token: str, issuer: str) -> Credential:
        provider = await self.provider_for(issuer)
        if provider is None:
            raise Unauthenticated("tokens of this issuer are not accepted here")
        verified = await asyncio.to_thread(provider.verify, token)
        if verified.role is None:
            raise Forbidden(
                f"identity provider '{provider.name}' grants this caller no role on this service"
            )
        key = (verified.issuer, verified.subject)
        known = self._users.get(key)
        if known is not None and known[1] == verified.role:
            user_id = known[0]
        else:
            user_id = await self._db.run(lambda conn: ensure_user(conn, provider, verified))
            if len(self._users) >= MAX_REMEMBERED_USERS:
                self._users.clear()
            self._users[key] = (user_id, verified.role)
        credential = Credential(subject=user_id, method=provider.method, source=provider.name)
        self._verified.put(
            token, credential, expires_at=datetime.fromtimestamp(verified.expires_at, UTC)
        )
        return credential


class Authenticator:
    """Turns a bearer token of any kind into a Credential, or Unauthenticated."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.sessions = AccessTokens(settings)
        self.providers = ProviderIdentities(settings, db) if _any_provider(settings) else None
        self._db = db

    async def authenticate(self, token: str) -> Credential:
        if looks_like_key(token):
            return await self._db.run(lambda conn: api_keys.authenticate(conn, token))
        claims = self.sessions.cached(token)
        if claims is not None:
            return session_credential(claims)
        if self.providers is not None:
            remembered = self.providers.cached(token)
            if remembered is not None:
                return remembered
            issuer = unverified_issuer(token)
            if issuer != self.settings.jwt_issuer:
                return await self.providers.authenticate(token, issuer)
        return session_credential(self.sessions.verify(token))


def _any_provider(settings: Settings) -> bool:
    return bool(settings.oidc_issuers or settings.kubernetes_identity)

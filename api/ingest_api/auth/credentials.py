"""What a request proved about its caller (pure: no I/O).

Every kind of identity (the service's own session tokens, API keys, an
OpenID Connect provider's tokens, a Kubernetes ServiceAccount's) ends as one
`Credential`: the user it acts for, how it authenticated, and the scopes it
was limited to. Everything past authentication (roles, ownership, rate
limits, the jobs' history) reads the Credential, never the token, so every
kind of identity gets the same guarantees.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from ingest_api.core.errors import Forbidden


class Method(StrEnum):
    """How a caller authenticated; the first part of `Credential.via`."""

    SESSION = "session"
    API_KEY = "api-key"
    OIDC = "oidc"
    KUBERNETES = "kubernetes"


class Scope(StrEnum):
    """What an API key may be used for. Other credentials are limited by
    their user's role alone."""

    JOBS_READ = "jobs:read"
    JOBS_WRITE = "jobs:write"


@dataclass(frozen=True, slots=True)
class Credential:
    """A verified credential: whose, how, and (API keys) limited to what.

    `source` names the credential within its method (the API key's id, the
    identity provider's configured name), so the history says exactly what
    acted: `api-key:6f1c...`, `oidc:corp`, `kubernetes:cluster`.
    """

    subject: uuid.UUID
    method: Method
    source: str | None = None
    scopes: frozenset[Scope] | None = None

    @property
    def via(self) -> str:
        return f"{self.method.value}:{self.source}" if self.source else self.method.value

    def require(self, scope: Scope) -> None:
        """Forbidden unless this credential may be used for `scope`."""
        if self.scopes is not None and scope not in self.scopes:
            raise Forbidden(f"this API key lacks the '{scope.value}' scope")

    def require_interactive(self, action: str) -> None:
        """API keys act on jobs only: they cannot manage users or mint more
        keys, so a leaked key never outgrows what it was made for."""
        if self.method is Method.API_KEY:
            raise Forbidden(f"an API key cannot {action}; use a login or an identity token")

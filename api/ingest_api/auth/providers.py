"""Verifying an identity provider's tokens: an OIDC issuer's, or a
Kubernetes cluster's ServiceAccount tokens (its API server is an OIDC
issuer too).

Each provider's keys come from its JWKS, found through its discovery
document unless configured, fetched by PyJWT's client (cached 5 minutes,
fetched again for an unknown key id at most every 30 s, no redirects). A
token is accepted only when signed by one of those keys with an algorithm
the provider is configured for (never one the token names), for the
configured issuer and audience, within its lifetime. The fetches block:
callers run `verify` in a thread.
"""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import jwt
from jwt import PyJWKClient

from ingest_api.auth.credentials import Method
from ingest_api.core.errors import DependencyUnavailable, Unauthenticated
from ingest_api.core.identities import (
    ROLE_ORDER,
    KubernetesIdentity,
    OidcIssuer,
    RoleName,
)

REQUIRED_CLAIMS: Final = ["exp", "iat", "iss", "sub", "aud"]
FETCH_TIMEOUT_SECONDS: Final = 10
KEYS_LIFESPAN_SECONDS: Final = 300
# A provider whose discovery failed is asked again after this long.
DISCOVERY_RETRY_SECONDS: Final = 10
DISCOVERY_PATH: Final = "/.well-known/openid-configuration"
# The API server serves its keys here whatever its discovery document
# names (which may be a public address the pod cannot reach).
KUBERNETES_JWKS_PATH: Final = "/openid/v1/jwks"
SERVICE_ACCOUNT_PREFIX: Final = "system:serviceaccount:"


# --- claims to roles (pure) --------------------------------------------------------


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """The claim at a dotted path (`realm_access.roles`), or None."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def claim_values(value: Any) -> set[str]:
    """A claim as a set of strings: a list's strings, or a space-separated
    string's words (how `scope` is sent)."""
    if isinstance(value, str):
        return set(value.split())
    if isinstance(value, list):
        return {item for item in value if isinstance(item, str)}
    return set()


def oidc_role(issuer: OidcIssuer, claims: dict[str, Any]) -> RoleName | None:
    """The most powerful role the token's roles claim grants, else the
    issuer's default role (None: no role)."""
    held = claim_values(claim_at(claims, issuer.roles_claim))
    for role in ROLE_ORDER:
        if held & set(getattr(issuer.roles, role)):
            return role
    return issuer.default_role


def service_account_of(claims: dict[str, Any]) -> tuple[str, str] | None:
    """(namespace, name) of a ServiceAccount token, when its `sub` and its
    `kubernetes.io` claim agree; None otherwise."""
    details = claims.get("kubernetes.io")
    if not isinstance(details, dict):
        return None
    namespace = details.get("namespace")
    account = details.get("serviceaccount")
    name = account.get("name") if isinstance(account, dict) else None
    if not isinstance(namespace, str) or not isinstance(name, str):
        return None
    if claims.get("sub") != f"{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}":
        return None
    return namespace, name


def kubernetes_role(cluster: KubernetesIdentity, claims: dict[str, Any]) -> RoleName | None:
    """The most powerful role granted to the token's ServiceAccount."""
    account = service_account_of(claims)
    if account is None:
        return None
    namespace, name = account
    granted = {
        grant.role
        for grant in cluster.service_accounts
        if grant.namespace == namespace and grant.name in (None, name)
    }
    return next((role for role in ROLE_ORDER if role in granted), None)


# --- fetching keys and verifying ---------------------------------------------------


def ssl_context_for(ca_file: str | None) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()


def bearer_headers(token_file: str | None) -> dict[str, str]:
    """Read each time: the kubelet rotates a projected token in its file."""
    if token_file is None:
        return {}
    return {"Authorization": f"Bearer {Path(token_file).read_text().strip()}"}


class ProviderKeys(PyJWKClient):
    """PyJWT's JWKS client, sending a ServiceAccount token read afresh at
    each fetch when the keys are not public (a cluster's)."""

    def __init__(self, uri: str, *, ca_file: str | None, token_file: str | None) -> None:
        super().__init__(
            uri,
            lifespan=KEYS_LIFESPAN_SECONDS,
            timeout=FETCH_TIMEOUT_SECONDS,
            ssl_context=ssl_context_for(ca_file),
        )
        self.token_file = token_file

    def fetch_data(self) -> Any:
        self.headers = bearer_headers(self.token_file)
        return super().fetch_data()


@dataclass(frozen=True)
class Verified:
    """A provider's verified token: whose (issuer, subject), what role."""

    issuer: str
    subject: str
    role: RoleName | None
    expires_at: int


class Provider:
    """One trusted identity provider: finds its issuer and keys (once, on
    first use) and verifies its tokens."""

    def __init__(self, config: OidcIssuer | KubernetesIdentity) -> None:
        self.config = config
        self.name = config.name
        self.method = Method.OIDC if isinstance(config, OidcIssuer) else Method.KUBERNETES
        self.issuer: str | None = config.issuer
        self._keys: ProviderKeys | None = None
        self._lock = threading.Lock()
        self._failure: DependencyUnavailable | None = None
        self._retry_at = 0.0

    @property
    def _token_file(self) -> str | None:
        return self.config.token_file if isinstance(self.config, KubernetesIdentity) else None

    def _discovery_url(self) -> str:
        if isinstance(self.config, KubernetesIdentity):
            return self.config.api_server.rstrip("/") + DISCOVERY_PATH
        return self.config.issuer.rstrip("/") + DISCOVERY_PATH

    def discover(self) -> None:
        """Learn the issuer and the keys' address, once (blocking). After a
        failure the provider is not asked again for DISCOVERY_RETRY_SECONDS:
        tokens naming it (or any unknown issuer, while a cluster's issuer is
        not known yet) get the same 503 at once, not a thread each that
        waits for a timeout."""
        with self._lock:
            if self._keys is not None:
                return
            if self._failure is not None and time.monotonic() < self._retry_at:
                raise self._failure
            try:
                self._keys = self._find_keys()
            except DependencyUnavailable as failure:
                self._failure, self._retry_at = failure, time.monotonic() + DISCOVERY_RETRY_SECONDS
                raise

    def _find_keys(self) -> ProviderKeys:
        """The provider's JWKS client: at the configured address, else where
        its discovery document says (a cluster's keys: at its API server)."""
        config = self.config
        if isinstance(config, OidcIssuer) and config.jwks_uri:
            jwks_uri = config.jwks_uri
        else:
            document = self._fetch_discovery()
            if isinstance(config, KubernetesIdentity):
                self.issuer = config.issuer or str(document.get("issuer", ""))
                jwks_uri = config.api_server.rstrip("/") + KUBERNETES_JWKS_PATH
            elif document.get("issuer") != config.issuer:
                raise self._unavailable("its discovery document names another issuer")
            else:
                jwks_uri = str(document.get("jwks_uri", ""))
        return ProviderKeys(jwks_uri, ca_file=config.ca_file, token_file=self._token_file)

    def _fetch_discovery(self) -> dict[str, Any]:
        try:
            answer = httpx.get(
                self._discovery_url(),
                headers=bearer_headers(self._token_file),
                verify=ssl_context_for(self.config.ca_file),
                timeout=FETCH_TIMEOUT_SECONDS,
            )
            answer.raise_for_status()
            document = answer.json()
        except (httpx.HTTPError, OSError, ValueError) as error:
            raise self._unavailable(f"its discovery document could not be read: {error}") from error
        if not isinstance(document, dict):
            raise self._unavailable("its discovery document is not a JSON object")
        return document

    def _unavailable(self, why: str) -> DependencyUnavailable:
        return DependencyUnavailable(
            f"identity provider '{self.name}' is unavailable: {why}",
            dependency=f"identity-provider:{self.name}",
        )

    def verify(self, token: str) -> Verified:
        """The token's issuer, subject and role, or Unauthenticated (blocking)."""
        self.discover()
        assert self._keys is not None  # noqa: S101 - set by discover()
        try:
            key = self._keys.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as error:
            raise self._unavailable("its keys could not be fetched") from error
        except jwt.PyJWKSetError as error:  # its JWKS holds no key this library can use
            raise self._unavailable(f"its keys are unusable: {error}") from error
        except jwt.PyJWTError as error:
            raise Unauthenticated(
                f"the token is not signed by a key '{self.name}' publishes: {error}"
            ) from error
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=self._algorithms,
                audience=self.config.audience,
                issuer=self.issuer,
                leeway=self.config.leeway_seconds,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthenticated("the token has expired") from error
        except jwt.PyJWTError as error:
            raise Unauthenticated(f"the token is invalid: {error}") from error
        subject = claims["sub"]
        if not isinstance(subject, str) or not 0 < len(subject) <= 255:
            raise Unauthenticated("the token's subject must be 1-255 characters")
        return Verified(
            issuer=str(claims["iss"]),
            subject=subject,
            role=self._role(claims),
            expires_at=int(claims["exp"]),
        )

    @property
    def _algorithms(self) -> list[str]:
        if isinstance(self.config, OidcIssuer):
            return list(self.config.algorithms)
        return ["RS256", "ES256"]  # what kube-apiserver signs with

    def _role(self, claims: dict[str, Any]) -> RoleName | None:
        if isinstance(self.config, OidcIssuer):
            return oidc_role(self.config, claims)
        return kubernetes_role(self.config, claims)

"""Which identity providers the service trusts, as settings (OIDC_ISSUERS,
KUBERNETES_IDENTITY): plain data, checked when the settings load.

An OIDC issuer's access tokens map to a role through one claim (`groups`,
or a path such as `realm_access.roles`); a Kubernetes cluster's
ServiceAccount tokens map to a role by namespace and ServiceAccount. Only
asymmetric algorithms are accepted: an identity provider's key is public,
and a public key used as an HMAC secret lets anyone sign.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Algorithm = Literal[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"
]
DEFAULT_ALGORITHMS: tuple[Algorithm, ...] = ("RS256",)
RoleName = Literal["admin", "uploader", "viewer"]
# The roles, most powerful first: a caller granted several gets the first.
ROLE_ORDER: tuple[RoleName, ...] = ("admin", "uploader", "viewer")
# Names a user "<name>:<subject>": lower-case, short, no colon.
IssuerName = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,31}$")]
HttpUrl = Annotated[str, Field(pattern=r"^https?://[^\s?#]+$", max_length=512)]
# A Kubernetes namespace or ServiceAccount name (RFC 1123).
KubeName = Annotated[str, Field(pattern=r"^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")]
# Clocks of the provider and of the API differ a little; more is a replay window.
DEFAULT_LEEWAY_SECONDS = 30
MAX_LEEWAY_SECONDS = 300


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoleGrants(_Strict):
    """The claim values that grant each role."""

    admin: list[str] = Field(default_factory=list)
    uploader: list[str] = Field(default_factory=list)
    viewer: list[str] = Field(default_factory=list)


class OidcIssuer(_Strict):
    """An OpenID Connect provider whose access tokens the API accepts."""

    name: IssuerName
    issuer: HttpUrl
    audience: str = Field(min_length=1, max_length=512)
    # Else read from the issuer's discovery document.
    jwks_uri: HttpUrl | None = None
    ca_file: str | None = None
    algorithms: list[Algorithm] = Field(
        default_factory=lambda: list(DEFAULT_ALGORITHMS), min_length=1
    )
    leeway_seconds: int = Field(default=DEFAULT_LEEWAY_SECONDS, ge=0, le=MAX_LEEWAY_SECONDS)
    # A top-level claim or a dotted path into nested ones.
    roles_claim: str = Field(default="groups", pattern=r"^[^.\s]+(\.[^.\s]+)*$")
    roles: RoleGrants = Field(default_factory=RoleGrants)
    # The role of a caller whose claim grants none; None refuses them (403).
    default_role: RoleName | None = None


class ServiceAccountGrant(_Strict):
    """A role for one ServiceAccount, or (no name) every one of a namespace."""

    namespace: KubeName
    name: KubeName | None = None
    role: RoleName


class KubernetesIdentity(_Strict):
    """A cluster whose ServiceAccount tokens (projected, with the API's
    audience) the API accepts. In a pod the defaults reach the cluster's own
    API server; its discovery document names the issuer."""

    name: IssuerName = "cluster"
    api_server: HttpUrl = "https://kubernetes.default.svc"
    ca_file: str | None = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt"
    # Read at each key fetch: the API server lets ServiceAccounts read its
    # keys (`system:service-account-issuer-discovery`), not anonymous callers.
    token_file: str | None = "/var/run/secrets/kubernetes.io/serviceaccount/token"  # noqa: S105 - a path
    # Else read from the API server's discovery document.
    issuer: HttpUrl | None = None
    audience: str = Field(min_length=1, max_length=512)
    leeway_seconds: int = Field(default=DEFAULT_LEEWAY_SECONDS, ge=0, le=MAX_LEEWAY_SECONDS)
    service_accounts: list[ServiceAccountGrant] = Field(min_length=1)


def doubled_names(oidc: list[OidcIssuer], kubernetes: KubernetesIdentity | None) -> list[str]:
    """The provider names given twice: each must be unique, so users' names are."""
    names = [issuer.name for issuer in oidc] + ([kubernetes.name] if kubernetes else [])
    return sorted({name for name in names if names.count(name) > 1})

"""`spec.auth`'s identity providers, parsed (pure): the OIDC issuers whose
access tokens the API accepts, and the ServiceAccounts of this cluster that
may call it with their projected tokens (workload identity).

Rendered into the service's OIDC_ISSUERS and KUBERNETES_IDENTITY settings
(`service_env`); the service checks them again when it starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ingest_operator.spec_fields import Fields, InvalidSpecError

ROLES: Final = ("admin", "uploader", "viewer")
DEFAULT_ALGORITHMS: Final = ("RS256",)
DEFAULT_LEEWAY_SECONDS: Final = 30
MAX_LEEWAY_SECONDS: Final = 300
DEFAULT_ROLES_CLAIM: Final = "groups"
DEFAULT_PASSWORD_LOGIN: Final = True


@dataclass(frozen=True)
class OidcProvider:
    name: str
    issuer: str
    audience: str
    jwks_uri: str | None
    algorithms: tuple[str, ...]
    leeway_seconds: int
    roles_claim: str
    # role -> the claim values that grant it
    roles: tuple[tuple[str, tuple[str, ...]], ...]
    default_role: str | None


@dataclass(frozen=True)
class ServiceAccountGrant:
    namespace: str
    name: str | None
    role: str


@dataclass(frozen=True)
class WorkloadIdentity:
    audience: str
    service_accounts: tuple[ServiceAccountGrant, ...]


def parse_oidc(auth: Fields) -> tuple[OidcProvider, ...]:
    providers = tuple(_parse_provider(item) for item in auth.objects("oidc"))
    names = [provider.name for provider in providers]
    doubled = sorted({name for name in names if names.count(name) > 1})
    if doubled:
        raise InvalidSpecError("spec.auth.oidc", f"names must be unique: {', '.join(doubled)}")
    return providers


def _parse_provider(provider: Fields) -> OidcProvider:
    roles = provider.object_or_empty("roles")
    jwks_uri = provider.optional_string("jwksUri")
    return OidcProvider(
        name=provider.string("name"),
        issuer=provider.string("issuer"),
        audience=provider.string("audience"),
        jwks_uri=jwks_uri,
        algorithms=provider.strings("algorithms") or DEFAULT_ALGORITHMS,
        leeway_seconds=provider.integer(
            "leewaySeconds", DEFAULT_LEEWAY_SECONDS, minimum=0, maximum=MAX_LEEWAY_SECONDS
        ),
        roles_claim=provider.string("rolesClaim", DEFAULT_ROLES_CLAIM),
        roles=tuple((role, roles.strings(role)) for role in ROLES),
        default_role=provider.optional_string("defaultRole"),
    )


def parse_workload_identity(auth: Fields) -> WorkloadIdentity | None:
    identity = auth.optional_object("workloadIdentity")
    if identity is None:
        return None
    return WorkloadIdentity(
        audience=identity.string("audience"),
        service_accounts=tuple(
            ServiceAccountGrant(
                namespace=grant.string("namespace"),
                name=grant.optional_string("name"),
                role=grant.string("role"),
            )
            for grant in identity.objects("serviceAccounts")
        ),
    )

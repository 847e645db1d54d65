"""Credentials: scopes limit API keys only; the claims of a provider's token
map to a role by configuration, the most powerful role granted winning."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError

from ingest_api.auth.credentials import Credential, Method, Scope
from ingest_api.auth.providers import kubernetes_role, oidc_role, service_account_of
from ingest_api.core.config import Settings, production_violations
from ingest_api.core.errors import Forbidden
from ingest_api.core.identities import KubernetesIdentity, OidcIssuer

USER = uuid.uuid4()


def test_only_an_api_key_is_limited_by_scopes() -> None:
    session = Credential(subject=USER, method=Method.SESSION)
    key = Credential(
        subject=USER, method=Method.API_KEY, source="k", scopes=frozenset({Scope.JOBS_READ})
    )
    for scope in Scope:
        session.require(scope)
    key.require(Scope.JOBS_READ)
    with pytest.raises(Forbidden, match="jobs:write"):
        key.require(Scope.JOBS_WRITE)
    with pytest.raises(Forbidden, match="API key cannot manage users"):
        key.require_interactive("manage users")
    session.require_interactive("manage users")
    assert (session.via, key.via) == ("session", "api-key:k")


CORP = OidcIssuer(
    name="corp",
    issuer="https://idp.example.com/realms/corp",
    audience="ingest",
    roles_claim="realm_access.roles",
    roles={"admin": ["ingest-admin"], "uploader": ["ingest-upload"], "viewer": ["staff"]},
)


@pytest.mark.parametrize(
    ("claims", "role"),
    [
        ({"realm_access": {"roles": ["staff", "ingest-upload"]}}, "uploader"),
        ({"realm_access": {"roles": ["ingest-admin", "staff"]}}, "admin"),
        ({"realm_access": {"roles": ["staff"]}}, "viewer"),
        ({"realm_access": {"roles": ["other"]}}, None),
        ({"realm_access": {"roles": "staff ingest-upload"}}, "uploader"),
        ({"realm_access": "ingest-admin"}, None),
        ({"realm_access": {"roles": [1, None, {"x": 1}]}}, None),
        ({"groups": ["ingest-admin"]}, None),
        ({}, None),
    ],
)
def test_the_most_powerful_granted_role_wins(claims: dict[str, Any], role: str | None) -> None:
    assert oidc_role(CORP, claims) == role


def test_a_default_role_applies_when_no_claim_grants_one() -> None:
    lenient = CORP.model_copy(update={"default_role": "viewer"})
    assert oidc_role(lenient, {}) == "viewer"
    assert oidc_role(lenient, {"realm_access": {"roles": ["ingest-admin"]}}) == "admin"


CLUSTER = KubernetesIdentity(
    audience="ingest-api",
    service_accounts=[
        {"namespace": "shipping", "name": "log-shipper", "role": "uploader"},
        {"namespace": "shipping", "role": "viewer"},
        {"namespace": "ops", "name": "admin-bot", "role": "admin"},
    ],
)


def sa_claims(namespace: str, name: str, sub: str | None = None) -> dict[str, Any]:
    return {
        "sub": sub or f"system:serviceaccount:{namespace}:{name}",
        "kubernetes.io": {"namespace": namespace, "serviceaccount": {"name": name, "uid": "u"}},
    }


@pytest.mark.parametrize(
    ("claims", "role"),
    [
        (sa_claims("shipping", "log-shipper"), "uploader"),
        (sa_claims("shipping", "anyone"), "viewer"),
        (sa_claims("ops", "admin-bot"), "admin"),
        (sa_claims("ops", "other"), None),
        (sa_claims("default", "log-shipper"), None),
        # A `sub` that disagrees with the kubernetes.io claim is no ServiceAccount.
        (sa_claims("ops", "admin-bot", sub="system:serviceaccount:shipping:x"), None),
        ({"sub": "system:serviceaccount:ops:admin-bot"}, None),
    ],
)
def test_service_accounts_map_to_roles(claims: dict[str, Any], role: str | None) -> None:
    assert kubernetes_role(CLUSTER, claims) == role


def test_a_service_account_is_read_from_agreeing_claims_only() -> None:
    assert service_account_of(sa_claims("a", "b")) == ("a", "b")
    assert service_account_of({"kubernetes.io": {"namespace": 1}}) is None


def test_provider_settings_refuse_symmetric_algorithms_and_doubled_names() -> None:
    with pytest.raises(ValidationError, match="algorithms"):
        OidcIssuer(name="x", issuer="https://x", audience="a", algorithms=["HS256"])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="unique"):
        Settings(
            _env_file=None,  # type: ignore[call-arg]
            oidc_issuers=[CORP, CORP.model_copy(update={"issuer": "https://other"})],
        )
    with pytest.raises(ValidationError, match="own JWT_ISSUER"):
        Settings(_env_file=None, oidc_issuers=[CORP.model_copy(update={"issuer": "ingest-api"})])  # type: ignore[call-arg]


def test_production_refuses_identity_providers_over_plain_http() -> None:
    plain = Settings(
        _env_file=None,  # type: ignore[call-arg]
        oidc_issuers=[CORP.model_copy(update={"issuer": "http://idp.internal"})],
    )
    assert any("plain HTTP" in v and "idp.internal" in v for v in production_violations(plain))
    assert not any(
        "identity provider" in v
        for v in production_violations(Settings(_env_file=None, oidc_issuers=[CORP]))
    )  # type: ignore[call-arg]

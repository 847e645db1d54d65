"""A provider's keys as it publishes them, read over HTTP from a local
provider (no database involved): what is verified, and what is the
provider's fault (503) rather than the caller's (401)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingest_api.auth.providers import Provider
from ingest_api.core.errors import DependencyUnavailable, Unauthenticated
from ingest_api.core.identities import OidcIssuer
from tests.support.identity_provider import (
    LocalIdentityProvider,
    identity_provider,
    new_rsa_key,
    oidc_settings,
)


@pytest.fixture
def idp() -> Iterator[LocalIdentityProvider]:
    with identity_provider() as provider:
        yield provider


def test_a_good_token_gives_its_issuer_subject_and_role(idp: LocalIdentityProvider) -> None:
    provider = Provider(OidcIssuer(**oidc_settings(idp)))
    verified = provider.verify(idp.token("alice", groups=["ingest-viewers", "ingest-admins"]))
    assert (verified.issuer, verified.subject, verified.role) == (idp.issuer, "alice", "admin")


def test_keys_this_service_cannot_use_are_the_providers_fault(
    idp: LocalIdentityProvider,
) -> None:
    idp.jwks = lambda: {"keys": [{"kty": "XYZ", "kid": idp.kid}]}  # type: ignore[method-assign]
    provider = Provider(OidcIssuer(**oidc_settings(idp)))
    with pytest.raises(DependencyUnavailable, match="'corp' is unavailable: its keys are unusable"):
        provider.verify(idp.token("alice"))


def test_a_discovery_document_naming_another_issuer_is_refused(
    idp: LocalIdentityProvider,
) -> None:
    lookalike = OidcIssuer(**oidc_settings(idp, issuer=f"{idp.issuer}/"))
    with pytest.raises(DependencyUnavailable, match="names another issuer"):
        Provider(lookalike).verify(idp.token("alice"))


def test_a_token_signed_by_another_key_under_a_published_id_is_the_callers_fault(
    idp: LocalIdentityProvider,
) -> None:
    provider = Provider(OidcIssuer(**oidc_settings(idp)))
    with pytest.raises(Unauthenticated, match="Signature verification failed"):
        provider.verify(idp.token("alice", key=new_rsa_key()))

"""The contract between the operator and the service, checked from both ends:
the two packages share no code, only these environment variable names."""

from __future__ import annotations

import json

import pytest

from ingest_api.core import config
from ingest_api.core.config import Environment, Settings
from ingest_operator import policy
from ingest_operator.resolving import SecretValues
from ingest_operator.service_env import SERVICE_ENV_VARS, render_config_data
from ingest_operator.spec import parse_spec
from tests.support.ingest_service_builders import production_spec


def test_every_variable_the_operator_renders_is_one_the_service_reads() -> None:
    read_by_service = {name.upper() for name in Settings.model_fields}
    assert read_by_service >= SERVICE_ENV_VARS, SERVICE_ENV_VARS - read_by_service


def test_the_rendered_production_configuration_loads_in_the_service(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = render_config_data(parse_spec(production_spec()))
    secrets = {
        "DATABASE_URL": "postgresql://user:pw@db:5432/ingest",
        "REDIS_URL": "redis://redis:6379/0",
        "S3_ACCESS_KEY": "a-real-access-key",
        "S3_SECRET_KEY": "a-real-secret-key-value",
        "JWT_SECRET_KEY": "k7Qz2vXr9LmPq4Wn8TyB3cHd6FgJ1sAe",
    }
    assert set(config) | set(secrets) <= SERVICE_ENV_VARS

    # As a pod gets them: environment variables, strings all.
    for name, value in {**config, **secrets}.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.environment is Environment.PRODUCTION
    assert settings.cors_origins == json.loads(config["CORS_ORIGINS"])
    assert settings.debug is False
    assert settings.max_compression_ratio == int(config["MAX_COMPRESSION_RATIO"])
    assert settings.max_processing_seconds == int(config["MAX_PROCESSING_SECONDS"])
    assert settings.max_job_retries == int(config["MAX_JOB_RETRIES"])


def test_the_service_and_the_operator_know_the_same_well_known_jwt_keys() -> None:
    """One list in two packages that share no code: kept equal here."""
    assert config.WELL_KNOWN_JWT_SECRETS == policy.WELL_KNOWN_JWT_SECRETS
    assert config.MIN_JWT_SECRET_BYTES == policy.MIN_JWT_SECRET_BYTES
    assert config.MIN_JWT_SECRET_DISTINCT_CHARACTERS == policy.MIN_JWT_SECRET_DISTINCT_CHARACTERS


IDENTITY_AUTH = {
    "passwordLogin": False,
    "oidc": [
        {
            "name": "corp",
            "issuer": "https://login.example.com/realms/corp",
            "audience": "ingest-api",
            "rolesClaim": "realm_access.roles",
            "roles": {"admin": ["ingest-admin"], "uploader": ["ingest-upload"]},
            "defaultRole": "viewer",
        },
        {"name": "dex", "issuer": "https://dex.example.com", "audience": "ingest",
         "jwksUri": "https://dex.example.com/keys", "algorithms": ["ES256"]},
    ],
    "workloadIdentity": {
        "audience": "ingest-api",
        "serviceAccounts": [
            {"namespace": "shipping", "name": "log-shipper", "role": "uploader"},
            {"namespace": "reports", "role": "viewer"},
        ],
    },
}  # fmt: skip


def test_identity_providers_in_the_spec_load_in_the_service_as_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw = production_spec()
    raw["auth"] = {**raw.get("auth", {}), **IDENTITY_AUTH}
    rendered = render_config_data(parse_spec(raw))
    for name in ("PASSWORD_LOGIN", "OIDC_ISSUERS", "KUBERNETES_IDENTITY"):
        monkeypatch.setenv(name, rendered[name])
    settings = Settings(_env_file=None)  # type: ignore[call-arg]

    assert settings.password_login is False
    corp, dex = settings.oidc_issuers
    assert (corp.name, corp.issuer, corp.audience) == (
        "corp", "https://login.example.com/realms/corp", "ingest-api",
    )  # fmt: skip
    assert corp.roles_claim == "realm_access.roles"
    assert (corp.roles.admin, corp.roles.uploader, corp.roles.viewer) == (
        ["ingest-admin"], ["ingest-upload"], [],
    )  # fmt: skip
    assert corp.default_role == "viewer"
    assert (corp.algorithms, corp.leeway_seconds, corp.jwks_uri) == (["RS256"], 30, None)
    assert (dex.jwks_uri, dex.algorithms, dex.default_role) == (
        "https://dex.example.com/keys", ["ES256"], None,
    )  # fmt: skip
    cluster = settings.kubernetes_identity
    assert cluster is not None
    assert cluster.audience == "ingest-api"
    assert cluster.api_server == "https://kubernetes.default.svc"
    assert cluster.token_file == "/var/run/secrets/ingest/kubernetes/token"
    assert [(g.namespace, g.name, g.role) for g in cluster.service_accounts] == [
        ("shipping", "log-shipper", "uploader"), ("reports", None, "viewer"),
    ]  # fmt: skip


def test_both_ends_refuse_a_plain_http_identity_provider_in_production() -> None:
    raw = production_spec()
    raw["auth"] = {
        **raw.get("auth", {}),
        "oidc": [{"name": "corp", "issuer": "http://idp.internal", "audience": "a"}],
    }
    spec = parse_spec(raw)
    secrets = SecretValues(
        "k7Qz2vXr9LmPq4Wn8TyB3cHd6FgJ1sAe", "a-real-access-key", "a-real-key-value"
    )
    found = [v.field for v in policy.evaluate_policy(spec, secrets) or []]
    assert "spec.auth.oidc[0].issuer" in found
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        oidc_issuers=json.loads(render_config_data(spec)["OIDC_ISSUERS"]),
    )
    assert any("idp.internal" in v for v in config.production_violations(settings))

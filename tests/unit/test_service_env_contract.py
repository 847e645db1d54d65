"""The contract between the operator and the service, checked from both ends: the
environment variable names the operator renders and the service reads, and the
production policy both apply (the rules of ingest_policy, which both import)."""

from __future__ import annotations

import json

import pytest

from ingest_api.core import config, tracing
from ingest_api.core.config import Environment, Settings
from ingest_operator import policy
from ingest_operator.resolving import SecretValues
from ingest_operator.service_env import SERVICE_ENV_VARS, render_config_data
from ingest_operator.spec import parse_spec
from tests.support.ingest_service_builders import production_spec


def test_every_variable_the_operator_renders_is_one_the_service_reads() -> None:
    read_by_service = {name.upper() for name in Settings.model_fields} | tracing.OTEL_SETTINGS
    assert read_by_service >= SERVICE_ENV_VARS, SERVICE_ENV_VARS - read_by_service


def test_the_otel_settings_the_operator_renders_turn_tracing_on() -> None:
    raw = production_spec()
    raw["tracing"] = {"enabled": True, "endpoint": "http://collector.observability:4318"}
    settings = render_config_data(parse_spec(raw))
    assert tracing.requested_exporter(settings) == "otlp"
    assert tracing.requested_exporter(render_config_data(parse_spec(production_spec()))) is None


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


STRONG_KEY = "k7Qz2vXr9LmPq4Wn8TyB3cHd6FgJ1sAe"
JWT_KEYS = [
    STRONG_KEY,
    "",
    "secret",
    "  Your-256-Bit-Secret ",
    config.DEFAULT_JWT_SECRET_KEY,
    "k7Qz2vXr9LmPq4Wn8TyB3cHd6Fg",  # 27 bytes
    "ab" * 20,  # long, not random
]


def operator_refuses(spec_changes: dict[str, object], secrets: SecretValues) -> set[str]:
    """The fields the operator's policy finds fault with."""
    spec = parse_spec(production_spec(**spec_changes))
    violations = policy.evaluate_policy(spec, secrets)
    assert violations is not None
    return {violation.field.split("[")[0].split(".")[1] for violation in violations}


def service_refuses(**settings: object) -> list[str]:
    """The service's own start-up check (production_violations) on these settings."""
    values = {
        "jwt_secret_key": STRONG_KEY,
        "s3_access_key": "a-real-access-key",
        "s3_secret_key": "a-real-secret-key-value",
        "s3_endpoint": "https://s3.example.com",
        "cors_origins": ["https://app.example.com"],
        **settings,
    }
    return config.production_violations(Settings(_env_file=None, **values))  # type: ignore[call-arg]


@pytest.mark.parametrize("key", JWT_KEYS)
def test_the_service_and_the_operator_refuse_the_same_jwt_keys(key: str) -> None:
    secrets = SecretValues(key, "a-real-access-key", "a-real-secret-key-value")
    by_operator = "auth" in operator_refuses({}, secrets)
    by_service = any("JWT_SECRET_KEY" in v for v in service_refuses(jwt_secret_key=key))
    assert by_operator == by_service == (key != STRONG_KEY)


@pytest.mark.parametrize(
    ("spec_changes", "settings"),
    [
        ({"cors": {"origins": ["*"]}}, {"cors_origins": ["*"]}),
        ({"cors": {"origins": ["null"]}}, {"cors_origins": ["null"]}),
        (
            {"cors": {"origins": ["http://app.example.com"]}},
            {"cors_origins": ["http://app.example.com"]},
        ),
        (
            {"s3": {**production_spec()["s3"], "endpoint": "http://minio:9000"}},
            {"s3_endpoint": "http://minio:9000"},
        ),
    ],
)
def test_the_service_and_the_operator_refuse_the_same_settings(
    spec_changes: dict[str, object], settings: dict[str, object]
) -> None:
    secrets = SecretValues(STRONG_KEY, "a-real-access-key", "a-real-secret-key-value")
    assert operator_refuses(spec_changes, secrets)
    assert service_refuses(**settings)
    # And what one accepts, so does the other.
    assert not operator_refuses({}, secrets)
    assert not service_refuses()


def test_the_service_and_the_operator_refuse_minios_default_keys() -> None:
    for access, secret in (("minioadmin", "real-secret-9x"), ("real-access-3k", "minioadmin")):
        refused = operator_refuses({}, SecretValues(STRONG_KEY, access, secret))
        assert refused == {"s3"}
        assert service_refuses(s3_access_key=access, s3_secret_key=secret)


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

"""The settings' production check, and parsing of the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ingest_api.core.config import (
    DEFAULT_JWT_SECRET_KEY,
    Environment,
    LogFormat,
    Settings,
    production_violations,
)

RANDOM_KEY = "k7Qz2vXr9LmPq4Wn8TyB3cHd6FgJ1sAe"
SAFE = {
    "jwt_secret_key": RANDOM_KEY,
    "s3_endpoint": "https://s3.example.com",
    "s3_access_key": "access-key",
    "s3_secret_key": "secret-key-value",
    "cors_origins": ["https://app.example.com"],
    "debug": False,
}


@pytest.fixture(autouse=True)
def _no_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # A shell with the local stack's settings exported must not change the defaults.
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_safe_settings_have_no_violations() -> None:
    assert production_violations(settings(**SAFE)) == []
    assert settings(environment="production", **SAFE).environment is Environment.PRODUCTION


@pytest.mark.parametrize(
    ("override", "violation"),
    [
        (
            {"jwt_secret_key": DEFAULT_JWT_SECRET_KEY},
            "JWT_SECRET_KEY is a well-known default value",
        ),
        (
            {"jwt_secret_key": f"  {DEFAULT_JWT_SECRET_KEY.upper()} "},
            "JWT_SECRET_KEY is a well-known default value",
        ),
        ({"jwt_secret_key": RANDOM_KEY[:31]}, "JWT_SECRET_KEY is shorter than 32 bytes"),
        (
            {"jwt_secret_key": "changeme" * 4},
            "JWT_SECRET_KEY has fewer than 10 distinct characters: it is not random",
        ),
        (
            {"cors_origins": ["https://a.example", "null", "http://b.example"]},
            "CORS_ORIGINS allows origins a page can fake or read in clear "
            "(null, http://b.example): use https:// origins",
        ),
        ({"cors_origins": ["https://a.example", "*"]}, "CORS_ORIGINS allows every origin ('*')"),
        (
            {"s3_access_key": "minioadmin"},
            "S3_ACCESS_KEY/S3_SECRET_KEY are MinIO's default credentials",
        ),
        (
            {"s3_secret_key": "minioadmin"},
            "S3_ACCESS_KEY/S3_SECRET_KEY are MinIO's default credentials",
        ),
        ({"debug": True}, "DEBUG is true"),
        (
            {"s3_endpoint": "http://minio.example.com:9000"},
            "S3_ENDPOINT uses plain HTTP; set S3_ALLOW_PLAIN_HTTP=true only for an endpoint "
            "inside the cluster",
        ),
        (
            # Presigned uploads go to the public endpoint: in clear over http.
            {"s3_public_endpoint": "http://files.example.com"},
            "S3_PUBLIC_ENDPOINT uses plain HTTP; set S3_ALLOW_PLAIN_HTTP=true only for an "
            "endpoint inside the cluster",
        ),
        (
            {"trusted_proxies": ["10.0.0.0/8", "0.0.0.0/0"]},
            "TRUSTED_PROXIES trusts whole internet ranges (0.0.0.0/0): "
            "any client could choose its address for the rate limits",
        ),
        (
            {"trusted_proxies": ["::/0"]},
            "TRUSTED_PROXIES trusts whole internet ranges (::/0): "
            "any client could choose its address for the rate limits",
        ),
        (
            {"bootstrap_admin_username": "root", "bootstrap_admin_password": "short"},
            "BOOTSTRAP_ADMIN_PASSWORD is shorter than 12 characters or the user name",
        ),
        (
            {
                "bootstrap_admin_username": "administrator",
                "bootstrap_admin_password": "administrator",
            },
            "BOOTSTRAP_ADMIN_PASSWORD is shorter than 12 characters or the user name",
        ),
    ],
)
def test_each_unsafe_value_is_one_violation(override: dict[str, object], violation: str) -> None:
    assert production_violations(settings(**{**SAFE, **override})) == [violation]


def test_a_plain_http_endpoint_passes_when_it_is_said_to_be_in_the_cluster() -> None:
    in_cluster = {"s3_endpoint": "http://minio.storage.svc:9000", "s3_allow_plain_http": True}
    assert production_violations(settings(**{**SAFE, **in_cluster})) == []


def test_length_is_counted_in_bytes() -> None:
    # 11 three-byte characters: 33 bytes, though only 11 characters.
    key = "€₹₩₪₫₭₮₯₰₱₲"
    assert production_violations(settings(**{**SAFE, "jwt_secret_key": key})) == []


def test_staging_refuses_a_well_known_jwt_key() -> None:
    """Review M5.2: the placeholder signs tokens anyone can forge."""
    with pytest.raises(ValidationError, match="refusing to start in staging"):
        settings(environment="staging")
    assert settings(environment="staging", jwt_secret_key=RANDOM_KEY).jwt_secret_key


def test_production_refuses_to_load_and_lists_every_violation() -> None:
    with pytest.raises(ValidationError) as refused:
        settings(environment="production", debug=True, cors_origins=["*"])
    message = str(refused.value)
    assert "JWT_SECRET_KEY is a well-known default value" in message
    assert "CORS_ORIGINS" in message
    assert "MinIO" in message
    assert "DEBUG is true" in message


def test_development_accepts_the_defaults() -> None:
    assert settings().environment is Environment.DEVELOPMENT


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", '["https://a.example", "https://b.example"]')
    monkeypatch.setenv("ALLOWED_CONTENT_TYPES", "text/plain, application/json")
    monkeypatch.setenv("DEBUG", "false")
    loaded = settings()
    assert loaded.cors_origins == ["https://a.example", "https://b.example"]
    assert loaded.allowed_content_types == ["text/plain", "application/json"]


def test_log_format_defaults_by_environment() -> None:
    assert settings().effective_log_format is LogFormat.CONSOLE
    staging = settings(environment="staging", jwt_secret_key=RANDOM_KEY)
    assert staging.effective_log_format is LogFormat.JSON
    assert settings(log_format="json").effective_log_format is LogFormat.JSON


def test_narrow_proxy_networks_and_a_strong_bootstrap_password_pass() -> None:
    safe = settings(
        **SAFE,
        trusted_proxies=["10.0.0.0/8", "192.168.1.7", "2001:db8::/32"],
        bootstrap_admin_username="root",
        bootstrap_admin_password="a-long-enough-password",
    )
    assert production_violations(safe) == []


@pytest.mark.parametrize("algorithm", ["none", "RS256", "ES256", "hs256"])
def test_only_hmac_algorithms_load(algorithm: str) -> None:
    with pytest.raises(ValidationError, match="jwt_algorithm"):
        settings(jwt_algorithm=algorithm)


def test_a_trusted_proxy_that_is_no_network_does_not_load() -> None:
    with pytest.raises(ValidationError, match="trusted_proxies"):
        settings(trusted_proxies=["10.0.0.0/8", "not-an-address"])


@pytest.mark.parametrize(
    "lifetime",
    [
        {"access_token_ttl_seconds": 2 * 24 * 3600},
        {"refresh_token_ttl_seconds": 100 * 24 * 3600},
        {"session_max_seconds": 400 * 24 * 3600},
    ],
)
def test_token_lifetimes_are_bounded(lifetime: dict[str, int]) -> None:
    """Review M5.6: a token that cannot be revoked must not live for weeks."""
    with pytest.raises(ValidationError, match=next(iter(lifetime))):
        settings(**lifetime)

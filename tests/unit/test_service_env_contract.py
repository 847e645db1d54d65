"""The contract between the operator and the service, checked from both ends:
the two packages share no code, only these environment variable names."""

from __future__ import annotations

import json

import pytest

from ingest_api.core import config
from ingest_api.core.config import Environment, Settings
from ingest_operator import policy
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

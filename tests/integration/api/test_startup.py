"""Start-up checks of the real command: production refuses unsafe settings
(naming every violation, never a secret), and an outdated schema is refused."""

from __future__ import annotations

import os
import subprocess

from ingest_api.core.config import Settings
from tests.support.api import settings_env
from tests.support.processes import BIN_DIR, run_command


def test_production_refuses_every_unsafe_setting_at_once(settings: Settings) -> None:
    env = {
        **settings_env(settings),
        "ENVIRONMENT": "production",
        "DEBUG": "true",
        "CORS_ORIGINS": '["https://app.example.com", "*"]',
        "JWT_SECRET_KEY": "short-secret",
        "S3_ACCESS_KEY": "minioadmin",
        "S3_SECRET_KEY": "minioadmin",
        "TRUSTED_PROXIES": '["0.0.0.0/0"]',
        "BOOTSTRAP_ADMIN_PASSWORD": "root-pw",
    }

    result = run_command("ingest-api", env, timeout=30)

    assert result.returncode != 0
    message = result.stderr
    assert "refusing to start in production" in message
    for violation in (
        "JWT_SECRET_KEY is shorter than 32 bytes",
        "CORS_ORIGINS allows every origin",
        "MinIO's default credentials",
        "DEBUG is true",
        "S3_ENDPOINT uses plain HTTP",
        "TRUSTED_PROXIES trusts whole internet ranges (0.0.0.0/0)",
        "BOOTSTRAP_ADMIN_PASSWORD is shorter than 12 characters",
    ):
        assert violation in message
    assert "short-secret" not in message
    assert "root-pw" not in message


def test_production_with_safe_settings_passes_the_check(
    settings: Settings, database_url: str
) -> None:
    # The control: the same command gets past configuration when all is well,
    # and stops at the schema check only because this database is empty.
    env = {
        **settings_env(settings),
        "ENVIRONMENT": "production",
        "S3_ACCESS_KEY": "a-real-access-key",
        "S3_SECRET_KEY": "a-real-secret-key-of-some-length",
        # The local MinIO listens on plain HTTP, as one inside a cluster may.
        "S3_ALLOW_PLAIN_HTTP": "true",
        "DATABASE_URL": database_url,
    }
    result = run_command("ingest-api", env, timeout=30)
    assert result.returncode != 0
    assert "invalid configuration" not in result.stderr
    assert "has no schema" in result.stderr


def test_an_unmigrated_database_is_refused_with_what_to_run(
    settings: Settings, database_url: str
) -> None:
    env = {**settings_env(settings), "DATABASE_URL": database_url}

    result = run_command("ingest-api", env, timeout=30)

    assert result.returncode != 0
    assert "has no schema; run `ingest-migrate`" in result.stderr


def test_ingest_migrate_brings_an_empty_database_to_head(
    settings: Settings, database_url: str
) -> None:
    env = {**settings_env(settings), "DATABASE_URL": database_url}

    first = run_command("ingest-migrate", env)
    again = run_command("ingest-migrate", env)

    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    assert "database is at revision" in again.stdout


def ingest_admin(
    env: dict[str, str], username: str, password: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN_DIR / "ingest-admin"), "create-user", "--username", username],
        input=password + "\n",
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_ingest_admin_creates_the_first_admin(settings: Settings) -> None:
    env = settings_env(settings)

    created = ingest_admin(env, "first-admin", "a-strong-admin-password")
    again = ingest_admin(env, "first-admin", "a-strong-admin-password")
    weak = ingest_admin(env, "second-admin", "short")

    assert created.returncode == 0, created.stderr
    assert "created admin 'first-admin'" in created.stdout
    assert again.returncode != 0
    assert "already exists" in again.stderr
    assert weak.returncode != 0
    assert "at least 12 characters" in weak.stderr

"""Resolves the spec's Secret references against the Secrets the operator read.

CEL cannot read Secrets, so what the production policy says about credentials,
what the pods' checksum covers and which database the migration Job migrates
start here. Pure: the apply step fetches the Secrets named by
`referenced_secret_names`, decodes their data and passes it in; this module
says what each reference holds and which ones dangle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ingest_operator.service_env import (
    DATABASE_URL,
    JWT_SECRET_KEY,
    REDIS_URL,
    S3_ACCESS_KEY,
    S3_SECRET_KEY,
    SecretEnvVar,
    secret_env_vars,
)
from ingest_operator.spec import IngestServiceSpec, SecretKey, SecretName

# Secret name -> key -> decoded value, as the apply step read them.
SecretData = Mapping[str, Mapping[str, str]]

# The variables that choose the database the migration Job migrates. The
# schema lives in that database, so a new value needs a migration of its own.
DATABASE_ENV_VARS: Final = frozenset({DATABASE_URL})


@dataclass(frozen=True)
class MissingSecretKey:
    """A reference that points at a Secret, or a key, that does not exist."""

    env_var: str
    secret: SecretName
    key: SecretKey
    source: str
    secret_exists: bool

    def describe(self) -> str:
        if not self.secret_exists:
            return f"Secret {self.secret!r} ({self.source}) does not exist"
        return f"Secret {self.secret!r} has no key {self.key!r} ({self.source})"


@dataclass(frozen=True)
class SecretValues:
    """The credentials the production policy judges."""

    jwt_secret_key: str
    s3_access_key: str
    s3_secret_key: str


@dataclass(frozen=True)
class SecretResolution:
    """What the references hold: values when all resolve, else what is missing."""

    values: SecretValues | None
    missing: tuple[MissingSecretKey, ...]
    # Only the keys the pods read, so rotating an unrelated key rolls nothing.
    checksum_data: Mapping[str, Mapping[str, str]]
    # The values of DATABASE_ENV_VARS, by variable name: what the migration
    # Job's name covers (through a digest), so another database migrates again.
    database_settings: Mapping[str, str]
    # Where KEDA reads the job stream's lag, when the workers autoscale with it.
    redis_url: str | None = None


def referenced_secret_names(
    spec: IngestServiceSpec, generated_secret: SecretName
) -> frozenset[SecretName]:
    """The Secrets the pods read: what the apply step fetches and watches."""
    return frozenset(env_var.secret for env_var in secret_env_vars(spec, generated_secret))


def resolve_secrets(
    spec: IngestServiceSpec, secrets: SecretData, generated_secret: SecretName
) -> SecretResolution:
    """Look up every Secret reference of the spec in `secrets` (absent name: no such Secret)."""
    env_vars = secret_env_vars(spec, generated_secret)
    found: dict[str, str] = {}
    missing: list[MissingSecretKey] = []
    checksum_data: dict[str, dict[str, str]] = {}
    for env_var in env_vars:
        value = _lookup(env_var, secrets)
        if value is None:
            missing.append(_missing(env_var, secrets))
            continue
        found[env_var.env_var] = value
        checksum_data.setdefault(env_var.secret, {})[env_var.key] = value
    values = (
        None
        if missing
        else SecretValues(
            jwt_secret_key=found[JWT_SECRET_KEY],
            s3_access_key=found[S3_ACCESS_KEY],
            s3_secret_key=found[S3_SECRET_KEY],
        )
    )
    return SecretResolution(
        values=values,
        missing=tuple(missing),
        checksum_data=checksum_data,
        database_settings={
            env_var: value for env_var, value in found.items() if env_var in DATABASE_ENV_VARS
        },
        redis_url=found.get(REDIS_URL),
    )


def _lookup(env_var: SecretEnvVar, secrets: SecretData) -> str | None:
    return secrets.get(env_var.secret, {}).get(env_var.key)


def _missing(env_var: SecretEnvVar, secrets: SecretData) -> MissingSecretKey:
    return MissingSecretKey(
        env_var=env_var.env_var,
        secret=env_var.secret,
        key=env_var.key,
        source=env_var.source,
        secret_exists=env_var.secret in secrets,
    )

"""The environment the API, the worker and the migration command read: a contract.

The service (api/ingest_api/core/config.py) reads these variable names; this
module decides where each value comes from: non-secret values from the
ConfigMap, credentials through secretKeyRef, so no secret value ever appears
in a pod spec. The two packages share no code, so a test checks
SERVICE_ENV_VARS against the service's settings from the other end.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

from ingest_operator.identity_spec import OidcProvider, WorkloadIdentity
from ingest_operator.spec import (
    DEFAULT_JWT_SECRET_KEY_KEY,
    IngestServiceSpec,
    SecretKey,
    SecretName,
)

ENVIRONMENT: Final = "ENVIRONMENT"
DEBUG: Final = "DEBUG"
LOG_LEVEL: Final = "LOG_LEVEL"
LOG_FORMAT: Final = "LOG_FORMAT"
DATABASE_URL: Final = "DATABASE_URL"
REDIS_URL: Final = "REDIS_URL"
S3_ENDPOINT: Final = "S3_ENDPOINT"
S3_ALLOW_PLAIN_HTTP: Final = "S3_ALLOW_PLAIN_HTTP"
S3_REGION: Final = "S3_REGION"
S3_BUCKET: Final = "S3_BUCKET"
S3_ACCESS_KEY: Final = "S3_ACCESS_KEY"
S3_SECRET_KEY: Final = "S3_SECRET_KEY"  # noqa: S105 - a variable name
JWT_SECRET_KEY: Final = "JWT_SECRET_KEY"  # noqa: S105 - a variable name
CORS_ORIGINS: Final = "CORS_ORIGINS"
RATE_LIMIT_PER_MINUTE: Final = "RATE_LIMIT_PER_MINUTE"
MAX_DECOMPRESSED_BYTES: Final = "MAX_DECOMPRESSED_BYTES"
MAX_COMPRESSION_RATIO: Final = "MAX_COMPRESSION_RATIO"
MAX_LINE_BYTES: Final = "MAX_LINE_BYTES"
MAX_PROCESSING_SECONDS: Final = "MAX_PROCESSING_SECONDS"
MAX_JOB_RETRIES: Final = "MAX_JOB_RETRIES"
RETAIN_UPLOADS_DAYS: Final = "RETAIN_UPLOADS_DAYS"
RETAIN_RESULTS_DAYS: Final = "RETAIN_RESULTS_DAYS"
RETAIN_FINISHED_JOBS_DAYS: Final = "RETAIN_FINISHED_JOBS_DAYS"
BOOTSTRAP_ADMIN_USERNAME: Final = "BOOTSTRAP_ADMIN_USERNAME"
BOOTSTRAP_ADMIN_PASSWORD: Final = "BOOTSTRAP_ADMIN_PASSWORD"  # noqa: S105 - a variable name
PASSWORD_LOGIN: Final = "PASSWORD_LOGIN"  # noqa: S105 - a variable name
OIDC_ISSUERS: Final = "OIDC_ISSUERS"
KUBERNETES_IDENTITY: Final = "KUBERNETES_IDENTITY"
PORT: Final = "PORT"
METRICS_PORT: Final = "METRICS_PORT"
# The OpenTelemetry SDK's own settings (the service reads them through it).
OTEL_TRACES_EXPORTER: Final = "OTEL_TRACES_EXPORTER"
OTEL_EXPORTER_OTLP_ENDPOINT: Final = "OTEL_EXPORTER_OTLP_ENDPOINT"
OTEL_EXPORTER_OTLP_PROTOCOL: Final = "OTEL_EXPORTER_OTLP_PROTOCOL"
OTEL_TRACES_SAMPLER: Final = "OTEL_TRACES_SAMPLER"
OTEL_TRACES_SAMPLER_ARG: Final = "OTEL_TRACES_SAMPLER_ARG"
OTEL_SERVICE_NAME: Final = "OTEL_SERVICE_NAME"
OTEL_ENV_VARS: Final[frozenset[str]] = frozenset(
    {
        OTEL_TRACES_EXPORTER,
        OTEL_EXPORTER_OTLP_ENDPOINT,
        OTEL_EXPORTER_OTLP_PROTOCOL,
        OTEL_TRACES_SAMPLER,
        OTEL_TRACES_SAMPLER_ARG,
        OTEL_SERVICE_NAME,
    }
)

# Every name the renderer can put into a container's environment.
SERVICE_ENV_VARS: Final[frozenset[str]] = frozenset(
    {
        ENVIRONMENT,
        DEBUG,
        LOG_LEVEL,
        LOG_FORMAT,
        DATABASE_URL,
        REDIS_URL,
        S3_ENDPOINT,
        S3_ALLOW_PLAIN_HTTP,
        S3_REGION,
        S3_BUCKET,
        S3_ACCESS_KEY,
        S3_SECRET_KEY,
        JWT_SECRET_KEY,
        CORS_ORIGINS,
        RATE_LIMIT_PER_MINUTE,
        MAX_DECOMPRESSED_BYTES,
        MAX_COMPRESSION_RATIO,
        MAX_LINE_BYTES,
        MAX_PROCESSING_SECONDS,
        MAX_JOB_RETRIES,
        RETAIN_UPLOADS_DAYS,
        RETAIN_RESULTS_DAYS,
        RETAIN_FINISHED_JOBS_DAYS,
        BOOTSTRAP_ADMIN_USERNAME,
        BOOTSTRAP_ADMIN_PASSWORD,
        PASSWORD_LOGIN,
        OIDC_ISSUERS,
        KUBERNETES_IDENTITY,
        PORT,
        METRICS_PORT,
        *OTEL_ENV_VARS,
    }
)

# Only the API creates the first administrator and authenticates callers;
# the worker and the migration never see those credentials and settings.
API_ONLY_ENV_VARS: Final[frozenset[str]] = frozenset(
    {
        BOOTSTRAP_ADMIN_USERNAME,
        BOOTSTRAP_ADMIN_PASSWORD,
        PASSWORD_LOGIN,
        OIDC_ISSUERS,
        KUBERNETES_IDENTITY,
    }
)

API_PORT: Final = 8000
# The API's and the worker's /metrics (and the worker's probes).
METRICS_PORT_NUMBER: Final = 9100
WORKER_METRICS_PORT: Final = METRICS_PORT_NUMBER
# Kubernetes collects container output; JSON lines are what log pipelines parse.
CONTAINER_LOG_FORMAT: Final = "json"

# Where the API pod finds a ServiceAccount token and the cluster's CA, to
# read the API server's keys (workload identity): a projected volume.
KUBERNETES_IDENTITY_PATH: Final = "/var/run/secrets/ingest/kubernetes"
KUBERNETES_TOKEN_FILE: Final = "token"  # noqa: S105 - a file name
KUBERNETES_CA_FILE: Final = "ca.crt"
WORKLOAD_IDENTITY_NAME: Final = "cluster"

# The key under which the operator's own Secret keeps the JWT key it generated.
GENERATED_JWT_SECRET_KEY: Final = DEFAULT_JWT_SECRET_KEY_KEY
# ...and the random key its checksums and digests are HMACs with: a hash of a
# password anyone can read (in a pod template, the status, a Job's name) would
# let them check guesses offline.
CHECKSUM_KEY: Final = "checksumKey"
GENERATED_SOURCE: Final = "the operator's generated Secret"


@dataclass(frozen=True)
class SecretEnvVar:
    """An environment variable whose value comes from one key of one Secret."""

    env_var: str
    secret: SecretName
    key: SecretKey
    # Where the reference comes from, for messages: a spec path, or the
    # operator's own Secret when it generated the value.
    source: str


def render_config_data(spec: IngestServiceSpec) -> dict[str, str]:
    """The ConfigMap's data: every non-secret setting, keyed by its variable name."""
    return {
        ENVIRONMENT: spec.environment.value,
        DEBUG: "true" if spec.debug else "false",
        LOG_LEVEL: spec.log_level.value,
        LOG_FORMAT: CONTAINER_LOG_FORMAT,
        S3_ENDPOINT: spec.s3.endpoint,
        S3_ALLOW_PLAIN_HTTP: "true" if spec.s3.allow_plain_http else "false",
        S3_REGION: spec.s3.region,
        S3_BUCKET: spec.s3.bucket,
        CORS_ORIGINS: json.dumps(list(spec.cors_origins)),
        RATE_LIMIT_PER_MINUTE: str(spec.rate_limit_per_minute),
        MAX_DECOMPRESSED_BYTES: str(spec.processing.max_decompressed_bytes),
        MAX_COMPRESSION_RATIO: str(spec.processing.max_compression_ratio),
        MAX_LINE_BYTES: str(spec.processing.max_line_bytes),
        MAX_PROCESSING_SECONDS: str(spec.processing.timeout_seconds),
        MAX_JOB_RETRIES: str(spec.processing.max_retries),
        RETAIN_UPLOADS_DAYS: str(spec.retention.uploads_days),
        RETAIN_RESULTS_DAYS: str(spec.retention.results_days),
        RETAIN_FINISHED_JOBS_DAYS: str(spec.retention.finished_jobs_days),
        PASSWORD_LOGIN: "true" if spec.auth.password_login else "false",
        OIDC_ISSUERS: json.dumps([oidc_setting(provider) for provider in spec.auth.oidc]),
        **(
            {KUBERNETES_IDENTITY: json.dumps(kubernetes_setting(spec.auth.workload_identity))}
            if spec.auth.workload_identity
            else {}
        ),
        **tracing_settings(spec),
    }


def tracing_settings(spec: IngestServiceSpec) -> dict[str, str]:
    """The OTEL_* settings spec.tracing asks for (none while it is off)."""
    if not spec.tracing.enabled or spec.tracing.endpoint is None:
        return {}  # parse_tracing refuses an enabled tracing without an endpoint
    return {
        OTEL_TRACES_EXPORTER: "otlp",
        OTEL_EXPORTER_OTLP_ENDPOINT: spec.tracing.endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
        # A caller's sampling decision is kept; traces started here are kept at the ratio.
        OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
        OTEL_TRACES_SAMPLER_ARG: spec.tracing.sampling_ratio,
    }


def oidc_setting(provider: OidcProvider) -> dict[str, Any]:
    """One OIDC_ISSUERS entry, as the service reads it."""
    setting: dict[str, Any] = {
        "name": provider.name,
        "issuer": provider.issuer,
        "audience": provider.audience,
        "algorithms": list(provider.algorithms),
        "leeway_seconds": provider.leeway_seconds,
        "roles_claim": provider.roles_claim,
        "roles": {role: list(values) for role, values in provider.roles},
    }
    if provider.jwks_uri:
        setting["jwks_uri"] = provider.jwks_uri
    if provider.default_role:
        setting["default_role"] = provider.default_role
    return setting


def kubernetes_setting(identity: WorkloadIdentity) -> dict[str, Any]:
    """KUBERNETES_IDENTITY, as the service reads it: this cluster's API
    server, read with the token and CA of the API pod's projected volume."""
    return {
        "name": WORKLOAD_IDENTITY_NAME,
        "audience": identity.audience,
        "token_file": f"{KUBERNETES_IDENTITY_PATH}/{KUBERNETES_TOKEN_FILE}",
        "ca_file": f"{KUBERNETES_IDENTITY_PATH}/{KUBERNETES_CA_FILE}",
        "service_accounts": [
            {
                "namespace": grant.namespace,
                **({"name": grant.name} if grant.name else {}),
                "role": grant.role,
            }
            for grant in identity.service_accounts
        ],
    }


def secret_env_vars(
    spec: IngestServiceSpec, generated_secret: SecretName
) -> tuple[SecretEnvVar, ...]:
    """Every variable fed from a Secret, the API-only ones included."""
    postgres = spec.postgres_url_secret_ref
    redis = spec.redis_url_secret_ref
    s3 = spec.s3.credentials_secret_ref
    s3_source = "spec.s3.credentialsSecretRef"
    env_vars = [
        SecretEnvVar(DATABASE_URL, postgres.name, postgres.key, "spec.postgres.urlSecretRef"),
        SecretEnvVar(REDIS_URL, redis.name, redis.key, "spec.redis.urlSecretRef"),
        SecretEnvVar(S3_ACCESS_KEY, s3.name, s3.access_key_key, s3_source),
        SecretEnvVar(S3_SECRET_KEY, s3.name, s3.secret_key_key, s3_source),
        _jwt_env_var(spec, generated_secret),
    ]
    admin = spec.auth.bootstrap_admin_secret_ref
    if admin is not None:
        admin_source = "spec.auth.bootstrapAdminSecretRef"
        env_vars += [
            SecretEnvVar(BOOTSTRAP_ADMIN_USERNAME, admin.name, admin.username_key, admin_source),
            SecretEnvVar(BOOTSTRAP_ADMIN_PASSWORD, admin.name, admin.password_key, admin_source),
        ]
    return tuple(env_vars)


def _jwt_env_var(spec: IngestServiceSpec, generated_secret: SecretName) -> SecretEnvVar:
    ref = spec.auth.jwt_secret_ref
    if ref is None:
        return SecretEnvVar(
            JWT_SECRET_KEY, generated_secret, GENERATED_JWT_SECRET_KEY, GENERATED_SOURCE
        )
    return SecretEnvVar(JWT_SECRET_KEY, ref.name, ref.key, "spec.auth.jwtSecretRef")

"""The service's settings: one class, read from the environment (and `.env`).

The names are a contract with the operator, which renders them into the pods
(see the README's configuration table). In production the settings refuse to
load while any of them is unsafe, and the one error lists every violation,
so a bad rollout fails at start-up rather than at the first attack.
"""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Literal, Self

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ingest_api.core.identities import KubernetesIdentity, OidcIssuer, doubled_names
from ingest_policy import rules

# The development defaults. Production refuses each of them (ingest_policy's
# rules, which the operator applies too, before any pod starts).
DEFAULT_JWT_SECRET_KEY = rules.DEVELOPMENT_JWT_SECRET
MINIO_DEFAULT_ACCESS_KEY = rules.MINIO_DEFAULT_KEY
MINIO_DEFAULT_SECRET_KEY = rules.MINIO_DEFAULT_KEY
# The shortest password the API lets an admin set; the bootstrap admin's too.
MIN_PASSWORD_CHARS = 12
# A trusted-proxy network wider than this (fewer prefix bits) trusts clients
# themselves: whatever X-Forwarded-For they send would be believed.
MIN_PROXY_PREFIX = {4: 8, 6: 32}


class Environment(StrEnum):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


class LogFormat(StrEnum):
    JSON = "json"
    CONSOLE = "console"


class Settings(BaseSettings):
    """Everything the API and the worker read from their environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    environment: Environment = Environment.DEVELOPMENT
    debug: bool = False
    log_level: str = "info"
    # Readable lines for people in development, JSON everywhere else.
    log_format: LogFormat | None = None

    database_url: str = "postgresql://ingest:ingest@localhost:5432/ingest"
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout_seconds: float = Field(default=5.0, gt=0)
    db_pool_recycle_seconds: int = Field(default=1800, ge=1)
    db_statement_timeout_ms: int = Field(default=15_000, ge=1)
    db_retry_attempts: int = Field(default=4, ge=1)
    # The hot paths' own pool (authentication, creating and reading jobs),
    # beside the ORM's DB_POOL_SIZE + DB_MAX_OVERFLOW.
    db_hot_pool_size: int = Field(default=4, ge=1)

    redis_url: str = "redis://localhost:6379/0"
    queue_stream: str = "ingest:jobs"

    s3_endpoint: str = "http://localhost:9000"
    # Over plain HTTP every uploaded file travels in clear: production refuses
    # an http:// endpoint unless this says it is inside the cluster.
    s3_allow_plain_http: bool = False
    # Where clients reach the storage, when not where the service does (an
    # in-cluster name vs a public address): presigned URLs are signed for it.
    s3_public_endpoint: str | None = None
    s3_region: str = "us-east-1"
    s3_access_key: str = MINIO_DEFAULT_ACCESS_KEY
    s3_secret_key: str = MINIO_DEFAULT_SECRET_KEY
    s3_bucket: str = "ingest"
    upload_url_ttl_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    download_url_ttl_seconds: int = Field(default=900, ge=60, le=7 * 24 * 3600)
    max_upload_bytes: int = Field(default=5 * 1024**3, ge=1, le=5 * 1024**4)
    # Files larger than this are uploaded in parts (S3 multipart: parallel,
    # resumable, past the 5 GiB of one POST); smaller ones in one POST unless
    # the client asks for parts. MULTIPART_PART_BYTES is the parts' size when
    # the client does not choose one (grown to fit 10,000 parts).
    multipart_threshold_bytes: int = Field(default=100 * 1024**2, ge=5 * 1024**2)
    multipart_part_bytes: int = Field(default=16 * 1024**2, ge=5 * 1024**2, le=5 * 1024**3)
    allowed_content_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "text/plain",
            "application/json",
            "application/x-ndjson",
            "application/gzip",
            "application/zstd",
            "application/octet-stream",
        ]
    )

    jwt_secret_key: str = DEFAULT_JWT_SECRET_KEY
    # HMAC only: the key is a shared secret; "none" and public-key names
    # (whose "key" would be this secret read as a public key) are refused.
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    jwt_issuer: str = "ingest-api"
    jwt_audience: str = "ingest-clients"
    # Bounded: an access token cannot be revoked before it expires (logout
    # ends its session's refresh tokens), so it must not live for weeks.
    access_token_ttl_seconds: int = Field(default=900, ge=30, le=24 * 3600)
    refresh_token_ttl_seconds: int = Field(default=7 * 24 * 3600, ge=60, le=90 * 24 * 3600)
    # A session (a login and the refresh tokens rotated from it) ends this
    # long after the login, however often it is refreshed.
    session_max_seconds: int = Field(default=30 * 24 * 3600, ge=300, le=365 * 24 * 3600)

    # The service's own login (POST /v1/auth/token, refresh tokens); off when
    # an identity provider is the only way in.
    password_login: bool = True
    # Identity providers whose tokens the API accepts (`core.identities`), as
    # JSON: OIDC_ISSUERS a list, KUBERNETES_IDENTITY an object.
    oidc_issuers: list[OidcIssuer] = Field(default_factory=list)
    kubernetes_identity: KubernetesIdentity | None = None
    # API keys: the longest life a key may be given, and how many unrevoked,
    # unexpired keys one user may hold.
    api_key_max_days: int = Field(default=365, ge=1, le=3650)
    api_keys_per_user: int = Field(default=20, ge=1, le=1000)

    cors_origins: list[str] = Field(default_factory=list)
    rate_limit_per_minute: int = Field(default=120, ge=1)
    # Login attempts a minute, per account and per client address (an IPv6
    # /64), on top of the general limit (`auth.throttle`).
    login_attempts_per_account: int = Field(default=10, ge=1)
    login_attempts_per_client: int = Field(default=30, ge=1)
    # Every body this API takes is a small JSON document or login form: a
    # job with 20 full labels is under 8 KiB. Larger bodies are refused
    # before anything reads them (413), authenticated or not.
    max_request_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Forwarding headers are believed only from these peers (IPs or CIDRs).
    trusted_proxies: list[str] = Field(default_factory=list)

    bootstrap_admin_username: str | None = None
    bootstrap_admin_password: str | None = None

    # The worker. A message idle this long in a consumer's hands is taken over
    # by another (running jobs renew their claim well within it).
    worker_name: str | None = None
    worker_concurrency: int = Field(default=1, ge=1, le=64)
    worker_reclaim_idle_seconds: float = Field(default=60.0, ge=1)
    worker_max_deliveries: int = Field(default=5, ge=1)
    worker_shutdown_grace_seconds: float = Field(default=25.0, ge=0)
    # A worker that could not read the stream for this long says it is
    # unhealthy (/healthz 503), so that its liveness probe restarts it.
    worker_unhealthy_after_seconds: float = Field(default=60.0, ge=1)
    # Every interval, each worker queues again the jobs that have not moved
    # for `after` seconds and whose message the stream no longer holds
    # (`jobs.recovery`).
    worker_recovery_interval_seconds: float = Field(default=30.0, ge=0.1)
    worker_recovery_after_seconds: float = Field(default=120.0, ge=1)
    # What one file may cost (see `processing.models.Limits`), and how often
    # its owner may queue a failed job again.
    max_decompressed_bytes: int = Field(default=20 * 1024**3, ge=1)
    max_compression_ratio: float = Field(default=200.0, ge=1)
    max_line_bytes: int = Field(default=64 * 1024, ge=1)
    max_processing_seconds: float = Field(default=3600.0, gt=0)
    max_job_retries: int = Field(default=3, ge=0)

    # Retention (`ingest-admin purge` and the bucket's lifecycle rules, in
    # `retention`): days uploads and results stay in storage, and days
    # finished jobs (and jobs never completed) stay with their history.
    retain_uploads_days: int = Field(default=7, ge=1)
    retain_results_days: int = Field(default=30, ge=1)
    retain_finished_jobs_days: int = Field(default=90, ge=1)

    # How often the API samples the queue's gauges (`queue.gauges`).
    queue_gauges_interval_seconds: float = Field(default=10.0, ge=0.1)

    host: str = "0.0.0.0"  # noqa: S104 - a container listens on all interfaces
    port: int = 8000
    metrics_port: int = 9100

    @model_validator(mode="before")
    @classmethod
    def _split_content_types(cls, data: object) -> object:
        # A comma-separated list is what people type into a ConfigMap.
        if isinstance(data, dict):
            value = data.get("allowed_content_types")
            if isinstance(value, str):
                data["allowed_content_types"] = [v.strip() for v in value.split(",") if v.strip()]
        return data

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            ipaddress.ip_network(entry, strict=False)  # ValueError names the entry
        return value

    @model_validator(mode="after")
    def _identities_distinct(self) -> Self:
        own = [i.name for i in self.oidc_issuers if i.issuer == self.jwt_issuer]
        if own:
            raise ValueError(f"OIDC issuer {own[0]} has this service's own JWT_ISSUER")
        doubled = doubled_names(self.oidc_issuers, self.kubernetes_identity)
        if doubled:
            raise ValueError(f"identity provider names must be unique: {', '.join(doubled)}")
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Self:
        if self.environment is Environment.PRODUCTION:
            violations = production_violations(self)
            if violations:
                raise ValueError("refusing to start in production: " + "; ".join(violations))
        elif (
            # Staging is reachable too: a public key lets anyone forge an admin's token.
            self.environment is Environment.STAGING
            and rules.jwt_key_problem(self.jwt_secret_key) is rules.JwtKeyProblem.WELL_KNOWN
        ):
            raise ValueError(
                "refusing to start in staging: JWT_SECRET_KEY is the default value or a "
                "well-known one (anyone could sign tokens); set a random key"
            )
        return self

    @property
    def effective_log_format(self) -> LogFormat:
        if self.log_format is not None:
            return self.log_format
        if self.environment is Environment.DEVELOPMENT:
            return LogFormat.CONSOLE
        return LogFormat.JSON


def production_violations(settings: Settings) -> list[str]:
    """Every reason these settings are unsafe for production (pure)."""
    violations: list[str] = []
    violations += jwt_secret_violations(settings.jwt_secret_key)
    if rules.ANY_ORIGIN in settings.cors_origins:
        violations.append("CORS_ORIGINS allows every origin ('*')")
    unsafe_origins = rules.unsafe_origins(settings.cors_origins)
    if unsafe_origins:
        violations.append(
            f"CORS_ORIGINS allows origins a page can fake or read in clear "
            f"({', '.join(unsafe_origins)}): use https:// origins"
        )
    if rules.is_minio_default_key(settings.s3_access_key) or rules.is_minio_default_key(
        settings.s3_secret_key
    ):
        violations.append("S3_ACCESS_KEY/S3_SECRET_KEY are MinIO's default credentials")
    if settings.debug:
        violations.append("DEBUG is true")
    plain = [
        name
        for name, endpoint in (
            ("S3_ENDPOINT", settings.s3_endpoint),
            ("S3_PUBLIC_ENDPOINT", settings.s3_public_endpoint or ""),
        )
        if rules.is_plain_http(endpoint)
    ]
    if plain and not settings.s3_allow_plain_http:
        violations.append(
            f"{'/'.join(plain)} uses plain HTTP; set S3_ALLOW_PLAIN_HTTP=true only for an "
            "endpoint inside the cluster"
        )
    wide = [entry for entry in settings.trusted_proxies if _is_catch_all(entry)]
    if wide:
        violations.append(
            f"TRUSTED_PROXIES trusts whole internet ranges ({', '.join(wide)}): "
            "any client could choose its address for the rate limits"
        )
    plain_issuers = [
        url
        for url in [i.issuer for i in settings.oidc_issuers]
        + [i.jwks_uri or "" for i in settings.oidc_issuers]
        + ([settings.kubernetes_identity.api_server] if settings.kubernetes_identity else [])
        if rules.is_plain_http(url)
    ]
    if plain_issuers:
        violations.append(
            f"identity provider URLs use plain HTTP ({', '.join(plain_issuers)}): "
            "their keys could be replaced on the way; use https://"
        )
    password = settings.bootstrap_admin_password
    if password is not None and (
        len(password) < MIN_PASSWORD_CHARS or password == settings.bootstrap_admin_username
    ):
        violations.append(
            f"BOOTSTRAP_ADMIN_PASSWORD is shorter than {MIN_PASSWORD_CHARS} characters "
            "or the user name"
        )
    return violations


def jwt_secret_violations(key: str) -> list[str]:
    """Why `key` is no key to sign production tokens with, if it is not (pure)."""
    problem = rules.jwt_key_problem(key)
    return [] if problem is None else [f"JWT_SECRET_KEY {problem}"]


def _is_catch_all(entry: str) -> bool:
    network = ipaddress.ip_network(entry, strict=False)
    return network.prefixlen < MIN_PROXY_PREFIX[network.version]


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read once."""
    return Settings()

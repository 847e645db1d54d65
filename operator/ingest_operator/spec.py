"""The IngestService spec as frozen dataclasses, parsed from the dict kopf hands over.

The CRD in crds/ is the source of truth for the schema; the API server has
already validated and defaulted what arrives here. This module still applies
the same defaults and checks types, because a spec can reach the operator
from an older CRD or a test, and a wrong type should fail here with the field
path, not three calls later with a KeyError. A unit test checks that these
defaults equal the CRD's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NewType

from ingest_operator.autoscaling_spec import (
    DEFAULT_AUTOSCALING,
    Autoscaling,
    parse_autoscaling,
)
from ingest_operator.identity_spec import (
    DEFAULT_PASSWORD_LOGIN,
    OidcProvider,
    WorkloadIdentity,
    parse_oidc,
    parse_workload_identity,
)
from ingest_operator.monitoring_spec import DEFAULT_MONITORING, Monitoring, parse_monitoring
from ingest_operator.pod_spec import PodSettings, parse_pod_settings
from ingest_operator.spec_fields import Fields
from ingest_operator.spec_fields import InvalidSpecError as InvalidSpecError
from ingest_operator.tracing_spec import DEFAULT_TRACING, Tracing, parse_tracing

SecretName = NewType("SecretName", str)
SecretKey = NewType("SecretKey", str)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class ImagePullPolicy(StrEnum):
    ALWAYS = "Always"
    IF_NOT_PRESENT = "IfNotPresent"
    NEVER = "Never"


class ServiceType(StrEnum):
    CLUSTER_IP = "ClusterIP"
    NODE_PORT = "NodePort"
    LOAD_BALANCER = "LoadBalancer"


@dataclass(frozen=True)
class SecretKeyRef:
    """One key of one Secret in the IngestService's namespace."""

    name: SecretName
    key: SecretKey


@dataclass(frozen=True)
class S3CredentialsRef:
    name: SecretName
    access_key_key: SecretKey
    secret_key_key: SecretKey


@dataclass(frozen=True)
class BootstrapAdminRef:
    name: SecretName
    username_key: SecretKey
    password_key: SecretKey


@dataclass(frozen=True)
class Quantities:
    """CPU and memory as Kubernetes quantity strings (e.g. "100m", "256Mi")."""

    cpu: str
    memory: str


@dataclass(frozen=True)
class ContainerResources:
    requests: Quantities
    limits: Quantities


@dataclass(frozen=True)
class Replicas:
    api: int
    worker: int


@dataclass(frozen=True)
class Resources:
    api: ContainerResources
    worker: ContainerResources


@dataclass(frozen=True)
class S3Binding:
    endpoint: str
    bucket: str
    region: str
    credentials_secret_ref: S3CredentialsRef
    # An http:// endpoint in production: only one inside the cluster.
    allow_plain_http: bool = False


@dataclass(frozen=True)
class AuthSpec:
    # None: the operator generates the JWT key and keeps it in its own Secret.
    jwt_secret_ref: SecretKeyRef | None
    bootstrap_admin_secret_ref: BootstrapAdminRef | None
    password_login: bool = DEFAULT_PASSWORD_LOGIN
    oidc: tuple[OidcProvider, ...] = ()
    workload_identity: WorkloadIdentity | None = None


@dataclass(frozen=True)
class ServiceExposure:
    type: ServiceType
    port: int


@dataclass(frozen=True)
class ProcessingLimits:
    """What one uploaded file may cost the workers, and how often its owner
    may queue a failed job again (the service's MAX_* settings)."""

    max_decompressed_bytes: int
    max_compression_ratio: int
    max_line_bytes: int
    timeout_seconds: int
    max_retries: int


@dataclass(frozen=True)
class Retention:
    """How long files and finished jobs are kept (the service's RETAIN_*
    settings), and when the purge CronJob runs."""

    uploads_days: int
    results_days: int
    finished_jobs_days: int
    purge_schedule: str


@dataclass(frozen=True)
class IngestServiceSpec:
    environment: Environment
    image: str
    image_pull_policy: ImagePullPolicy
    replicas: Replicas
    resources: Resources
    postgres_url_secret_ref: SecretKeyRef
    redis_url_secret_ref: SecretKeyRef
    s3: S3Binding
    auth: AuthSpec
    cors_origins: tuple[str, ...]
    rate_limit_per_minute: int
    processing: ProcessingLimits
    retention: Retention
    debug: bool
    log_level: LogLevel
    service: ServiceExposure
    pod: PodSettings = field(default_factory=PodSettings)
    autoscaling: Autoscaling = DEFAULT_AUTOSCALING
    monitoring: Monitoring = DEFAULT_MONITORING
    tracing: Tracing = DEFAULT_TRACING

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION


# The defaults, one place, equal to the CRD's `default:` values (tested).
DEFAULT_ENVIRONMENT = Environment.DEVELOPMENT
DEFAULT_IMAGE_PULL_POLICY = ImagePullPolicy.IF_NOT_PRESENT
DEFAULT_API_REPLICAS = 2
DEFAULT_WORKER_REPLICAS = 2
DEFAULT_API_RESOURCES = ContainerResources(
    requests=Quantities(cpu="100m", memory="256Mi"),
    limits=Quantities(cpu="1", memory="512Mi"),
)
# Workers parse whole files in memory, so they get more headroom than the API.
DEFAULT_WORKER_RESOURCES = ContainerResources(
    requests=Quantities(cpu="100m", memory="256Mi"),
    limits=Quantities(cpu="1", memory="1Gi"),
)
DEFAULT_URL_KEY = SecretKey("url")
DEFAULT_S3_REGION = "us-east-1"
DEFAULT_S3_ALLOW_PLAIN_HTTP = False
DEFAULT_S3_ACCESS_KEY_KEY = SecretKey("accessKey")
DEFAULT_S3_SECRET_KEY_KEY = SecretKey("secretKey")
DEFAULT_JWT_SECRET_KEY_KEY = SecretKey("jwtSecretKey")
DEFAULT_BOOTSTRAP_USERNAME_KEY = SecretKey("username")
DEFAULT_BOOTSTRAP_PASSWORD_KEY = SecretKey("password")
DEFAULT_RATE_LIMIT_PER_MINUTE = 120
DEFAULT_PROCESSING = ProcessingLimits(
    max_decompressed_bytes=20 * 1024**3,
    max_compression_ratio=200,
    max_line_bytes=64 * 1024,
    timeout_seconds=3600,
    max_retries=3,
)
DEFAULT_RETENTION = Retention(
    uploads_days=7, results_days=30, finished_jobs_days=90, purge_schedule="17 3 * * *"
)
MAX_RETENTION_DAYS = 36_500
DEFAULT_DEBUG = False
DEFAULT_LOG_LEVEL = LogLevel.INFO
DEFAULT_SERVICE_TYPE = ServiceType.CLUSTER_IP
DEFAULT_SERVICE_PORT = 80


def parse_spec(raw: Mapping[str, Any]) -> IngestServiceSpec:
    """The typed spec of an IngestService, or InvalidSpecError naming the bad field."""
    spec = Fields(raw, "spec")
    replicas = spec.object_or_empty("replicas")
    resources = spec.object_or_empty("resources")
    return IngestServiceSpec(
        environment=spec.enum("environment", DEFAULT_ENVIRONMENT),
        image=spec.string("image"),
        image_pull_policy=spec.enum("imagePullPolicy", DEFAULT_IMAGE_PULL_POLICY),
        replicas=Replicas(
            api=replicas.integer("api", DEFAULT_API_REPLICAS, minimum=0),
            worker=replicas.integer("worker", DEFAULT_WORKER_REPLICAS, minimum=0),
        ),
        resources=Resources(
            api=_parse_container_resources(resources.object_or_empty("api"), DEFAULT_API_RESOURCES),
            worker=_parse_container_resources(
                resources.object_or_empty("worker"), DEFAULT_WORKER_RESOURCES
            ),
        ),
        postgres_url_secret_ref=_parse_url_secret_ref(spec.object("postgres")),
        redis_url_secret_ref=_parse_url_secret_ref(spec.object("redis")),
        s3=_parse_s3(spec.object("s3")),
        auth=_parse_auth(spec.object_or_empty("auth")),
        cors_origins=spec.object_or_empty("cors").strings("origins"),
        rate_limit_per_minute=spec.object_or_empty("rateLimit").integer(
            "requestsPerMinute", DEFAULT_RATE_LIMIT_PER_MINUTE, minimum=1
        ),
        processing=_parse_processing(spec.object_or_empty("processing")),
        retention=_parse_retention(spec.object_or_empty("retention")),
        debug=spec.boolean("debug", DEFAULT_DEBUG),
        log_level=spec.enum("logLevel", DEFAULT_LOG_LEVEL),
        service=_parse_service(spec.object_or_empty("service")),
        pod=parse_pod_settings(spec.object_or_empty("pod")),
        autoscaling=parse_autoscaling(spec.object_or_empty("autoscaling")),
        monitoring=parse_monitoring(spec.object_or_empty("monitoring")),
        tracing=parse_tracing(spec.object_or_empty("tracing")),
    )


def _parse_container_resources(
    resources: Fields, default: ContainerResources
) -> ContainerResources:
    requests = resources.object_or_empty("requests")
    limits = resources.object_or_empty("limits")
    return ContainerResources(
        requests=Quantities(
            cpu=requests.string("cpu", default.requests.cpu),
            memory=requests.string("memory", default.requests.memory),
        ),
        limits=Quantities(
            cpu=limits.string("cpu", default.limits.cpu),
            memory=limits.string("memory", default.limits.memory),
        ),
    )


def _parse_processing(processing: Fields) -> ProcessingLimits:
    default = DEFAULT_PROCESSING
    return ProcessingLimits(
        max_decompressed_bytes=processing.integer(
            "maxDecompressedBytes", default.max_decompressed_bytes, minimum=1
        ),
        max_compression_ratio=processing.integer(
            "maxCompressionRatio", default.max_compression_ratio, minimum=1, maximum=100_000
        ),
        max_line_bytes=processing.integer(
            "maxLineBytes", default.max_line_bytes, minimum=1024, maximum=16 * 1024**2
        ),
        timeout_seconds=processing.integer(
            "timeoutSeconds", default.timeout_seconds, minimum=1, maximum=86_400
        ),
        max_retries=processing.integer("maxRetries", default.max_retries, minimum=0, maximum=100),
    )


def _parse_retention(retention: Fields) -> Retention:
    default = DEFAULT_RETENTION

    def days(field: str, default_days: int) -> int:
        return retention.integer(field, default_days, minimum=1, maximum=MAX_RETENTION_DAYS)

    return Retention(
        uploads_days=days("uploadsDays", default.uploads_days),
        results_days=days("resultsDays", default.results_days),
        finished_jobs_days=days("finishedJobsDays", default.finished_jobs_days),
        purge_schedule=retention.string("purgeSchedule", default.purge_schedule),
    )


def _parse_url_secret_ref(binding: Fields) -> SecretKeyRef:
    return _parse_secret_key_ref(binding.object("urlSecretRef"), DEFAULT_URL_KEY)


def _parse_s3(s3: Fields) -> S3Binding:
    credentials = s3.object("credentialsSecretRef")
    return S3Binding(
        endpoint=s3.string("endpoint"),
        bucket=s3.string("bucket"),
        region=s3.string("region", DEFAULT_S3_REGION),
        credentials_secret_ref=S3CredentialsRef(
            name=SecretName(credentials.string("name")),
            access_key_key=SecretKey(credentials.string("accessKeyKey", DEFAULT_S3_ACCESS_KEY_KEY)),
            secret_key_key=SecretKey(credentials.string("secretKeyKey", DEFAULT_S3_SECRET_KEY_KEY)),
        ),
        allow_plain_http=s3.boolean("allowPlainHttp", DEFAULT_S3_ALLOW_PLAIN_HTTP),
    )


def _parse_auth(auth: Fields) -> AuthSpec:
    jwt = auth.optional_object("jwtSecretRef")
    admin = auth.optional_object("bootstrapAdminSecretRef")
    return AuthSpec(
        password_login=auth.boolean("passwordLogin", DEFAULT_PASSWORD_LOGIN),
        oidc=parse_oidc(auth),
        workload_identity=parse_workload_identity(auth),
        jwt_secret_ref=None
        if jwt is None
        else _parse_secret_key_ref(jwt, DEFAULT_JWT_SECRET_KEY_KEY),
        bootstrap_admin_secret_ref=None
        if admin is None
        else BootstrapAdminRef(
            name=SecretName(admin.string("name")),
            username_key=SecretKey(admin.string("usernameKey", DEFAULT_BOOTSTRAP_USERNAME_KEY)),
            password_key=SecretKey(admin.string("passwordKey", DEFAULT_BOOTSTRAP_PASSWORD_KEY)),
        ),
    )


def _parse_service(service: Fields) -> ServiceExposure:
    return ServiceExposure(
        type=service.enum("type", DEFAULT_SERVICE_TYPE),
        port=service.integer("port", DEFAULT_SERVICE_PORT, minimum=1, maximum=65535),
    )


def _parse_secret_key_ref(ref: Fields, default_key: SecretKey) -> SecretKeyRef:
    return SecretKeyRef(
        name=SecretName(ref.string("name")), key=SecretKey(ref.string("key", default_key))
    )

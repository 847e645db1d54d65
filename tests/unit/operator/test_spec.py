"""parse_spec: the defaults of a minimal spec, every field of a full one, and clear errors."""

from __future__ import annotations

from typing import Any

import pytest

from ingest_operator.spec import (
    DEFAULT_PROCESSING,
    AuthSpec,
    BootstrapAdminRef,
    ContainerResources,
    Environment,
    ImagePullPolicy,
    InvalidSpecError,
    LogLevel,
    ProcessingLimits,
    Quantities,
    Replicas,
    S3CredentialsRef,
    SecretKey,
    SecretKeyRef,
    SecretName,
    ServiceExposure,
    ServiceType,
    parse_spec,
)
from tests.support.crd_schema import apply_schema_defaults, load_crd, root_schema
from tests.support.ingest_service_builders import (
    ADMIN_SECRET,
    DB_SECRET,
    IMAGE,
    JWT_SECRET,
    REDIS_SECRET,
    S3_SECRET,
    minimal_spec,
    spec_with_every_reference,
)


def _ref(name: str, key: str) -> SecretKeyRef:
    return SecretKeyRef(SecretName(name), SecretKey(key))


def _s3_ref(name: str, access_key_key: str, secret_key_key: str) -> S3CredentialsRef:
    return S3CredentialsRef(SecretName(name), SecretKey(access_key_key), SecretKey(secret_key_key))


def _admin_ref(name: str, username_key: str, password_key: str) -> BootstrapAdminRef:
    return BootstrapAdminRef(SecretName(name), SecretKey(username_key), SecretKey(password_key))


def test_a_minimal_spec_gets_every_default() -> None:
    spec = parse_spec(minimal_spec())

    assert spec.environment is Environment.DEVELOPMENT
    assert not spec.is_production
    assert spec.image == IMAGE
    assert spec.image_pull_policy is ImagePullPolicy.IF_NOT_PRESENT
    assert spec.replicas == Replicas(api=2, worker=2)
    assert spec.resources.api == ContainerResources(
        requests=Quantities(cpu="100m", memory="256Mi"),
        limits=Quantities(cpu="1", memory="512Mi"),
    )
    assert spec.resources.worker.limits == Quantities(cpu="1", memory="1Gi")
    assert spec.postgres_url_secret_ref == _ref(DB_SECRET, "url")
    assert spec.redis_url_secret_ref == _ref(REDIS_SECRET, "url")
    assert spec.s3.region == "us-east-1"
    assert spec.s3.credentials_secret_ref == _s3_ref(S3_SECRET, "accessKey", "secretKey")
    assert spec.auth == AuthSpec(jwt_secret_ref=None, bootstrap_admin_secret_ref=None)
    assert spec.cors_origins == ()
    assert spec.rate_limit_per_minute == 120
    assert spec.processing == DEFAULT_PROCESSING
    assert spec.debug is False
    assert spec.log_level is LogLevel.INFO
    assert spec.service == ServiceExposure(type=ServiceType.CLUSTER_IP, port=80)


def test_optional_references_get_their_default_keys() -> None:
    auth = parse_spec(spec_with_every_reference()).auth

    assert auth.jwt_secret_ref == _ref(JWT_SECRET, "jwtSecretKey")
    assert auth.bootstrap_admin_secret_ref == _admin_ref(ADMIN_SECRET, "username", "password")


def test_every_field_given_is_read() -> None:
    raw: dict[str, Any] = {
        **minimal_spec(),
        "environment": "production",
        "imagePullPolicy": "Always",
        "replicas": {"api": 3, "worker": 5},
        "resources": {
            "api": {"requests": {"cpu": "250m"}, "limits": {"memory": "1Gi"}},
            "worker": {"requests": {"memory": "2Gi"}, "limits": {"memory": "4Gi"}},
        },
        "postgres": {"urlSecretRef": {"name": "pg", "key": "DATABASE_URL"}},
        "s3": {
            "endpoint": "https://minio.example.com",
            "bucket": "logs",
            "region": "eu-west-1",
            "credentialsSecretRef": {"name": "s3", "accessKeyKey": "id", "secretKeyKey": "key"},
        },
        "auth": {
            "jwtSecretRef": {"name": "jwt", "key": "signing"},
            "bootstrapAdminSecretRef": {"name": "adm", "usernameKey": "u", "passwordKey": "p"},
        },
        "cors": {"origins": ["https://a.example.com", "https://b.example.com"]},
        "rateLimit": {"requestsPerMinute": 600},
        "processing": {"maxCompressionRatio": 50, "timeoutSeconds": 600, "maxRetries": 0},
        "debug": True,
        "logLevel": "warning",
        "service": {"type": "LoadBalancer", "port": 8443},
    }

    spec = parse_spec(raw)

    assert spec.is_production
    assert spec.image_pull_policy is ImagePullPolicy.ALWAYS
    assert spec.replicas == Replicas(api=3, worker=5)
    # A partly given section keeps the defaults of what it leaves out.
    assert spec.resources.api == ContainerResources(
        requests=Quantities(cpu="250m", memory="256Mi"),
        limits=Quantities(cpu="1", memory="1Gi"),
    )
    assert spec.resources.worker.requests == Quantities(cpu="100m", memory="2Gi")
    assert spec.postgres_url_secret_ref == _ref("pg", "DATABASE_URL")
    assert spec.s3.endpoint == "https://minio.example.com"
    assert spec.s3.bucket == "logs"
    assert spec.s3.region == "eu-west-1"
    assert spec.s3.credentials_secret_ref == _s3_ref("s3", "id", "key")
    assert spec.auth.jwt_secret_ref == _ref("jwt", "signing")
    assert spec.auth.bootstrap_admin_secret_ref == _admin_ref("adm", "u", "p")
    assert spec.cors_origins == ("https://a.example.com", "https://b.example.com")
    assert spec.rate_limit_per_minute == 600
    # A partly given section keeps the defaults of what it leaves out.
    assert spec.processing == ProcessingLimits(
        max_decompressed_bytes=DEFAULT_PROCESSING.max_decompressed_bytes,
        max_compression_ratio=50,
        max_line_bytes=DEFAULT_PROCESSING.max_line_bytes,
        timeout_seconds=600,
        max_retries=0,
    )
    assert spec.debug is True
    assert spec.log_level is LogLevel.WARNING
    assert spec.service == ServiceExposure(type=ServiceType.LOAD_BALANCER, port=8443)


def test_null_means_default() -> None:
    raw = {**minimal_spec(), "replicas": {"api": None}, "debug": None, "cors": None}

    spec = parse_spec(raw)

    assert spec.replicas.api == 2
    assert spec.debug is False
    assert spec.cors_origins == ()


@pytest.mark.parametrize(
    ("change", "path", "problem"),
    [
        ({"image": ""}, "spec.image", "may not be empty"),
        ({"image": 42}, "spec.image", "must be a string, not int"),
        ({"environment": "prod"}, "spec.environment", "must be one of development, staging"),
        ({"replicas": {"api": True}}, "spec.replicas.api", "must be an integer, not bool"),
        ({"replicas": {"worker": -1}}, "spec.replicas.worker", "must be at least 0, not -1"),
        ({"replicas": [2, 2]}, "spec.replicas", "must be an object, not list"),
        ({"debug": "false"}, "spec.debug", "must be true or false"),
        ({"cors": {"origins": "*"}}, "spec.cors.origins", "must be a list, not str"),
        ({"cors": {"origins": ["https://a.example.com", 7]}}, "spec.cors.origins[1]", "string"),
        ({"service": {"port": 70000}}, "spec.service.port", "must be from 1 to 65535"),
        ({"rateLimit": {"requestsPerMinute": 0}}, "spec.rateLimit.requestsPerMinute", "at least"),
        ({"processing": {"maxLineBytes": 10}}, "spec.processing.maxLineBytes", "from 1024"),
        ({"processing": {"maxRetries": -1}}, "spec.processing.maxRetries", "from 0"),
        ({"postgres": {"urlSecretRef": {}}}, "spec.postgres.urlSecretRef.name", "is required"),
        ({"redis": {}}, "spec.redis.urlSecretRef", "is required"),
        ({"auth": {"jwtSecretRef": {"key": "k"}}}, "spec.auth.jwtSecretRef.name", "is required"),
    ],
)
def test_a_bad_field_is_named_in_the_error(change: dict[str, Any], path: str, problem: str) -> None:
    raw = {**minimal_spec(), **change}

    with pytest.raises(InvalidSpecError) as caught:
        parse_spec(raw)

    assert caught.value.path == path
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{path}: ")


def test_a_spec_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(InvalidSpecError, match=r"^spec: must be an object"):
        parse_spec([])  # type: ignore[arg-type]


def test_a_missing_nested_field_of_s3_is_named() -> None:
    raw = minimal_spec()
    del raw["s3"]["bucket"]

    with pytest.raises(InvalidSpecError) as caught:
        parse_spec(raw)

    assert caught.value.path == "spec.s3.bucket"


SPEC_SCHEMA = root_schema(load_crd())["properties"]["spec"]


def test_identity_providers_parse_with_the_crds_defaults_and_bad_ones_name_their_field() -> None:
    raw = minimal_spec()
    raw["auth"] = {"oidc": [{"name": "corp", "issuer": "https://idp", "audience": "api"}]}
    [corp] = parse_spec(raw).auth.oidc
    assert (corp.algorithms, corp.leeway_seconds, corp.roles_claim) == (("RS256",), 30, "groups")
    assert corp.roles == (("admin", ()), ("uploader", ()), ("viewer", ()))
    defaulted = apply_schema_defaults(raw, SPEC_SCHEMA)
    assert parse_spec(defaulted) == parse_spec(raw)
    assert parse_spec(minimal_spec()).auth.password_login is True

    raw["auth"]["oidc"].append({"name": "corp", "issuer": "https://other", "audience": "x"})
    with pytest.raises(InvalidSpecError, match="names must be unique: corp"):
        parse_spec(raw)
    raw["auth"] = {"workloadIdentity": {"audience": "a", "serviceAccounts": [{"role": "admin"}]}}
    with pytest.raises(InvalidSpecError, match=r"spec.auth.workloadIdentity.serviceAccounts\[0\]"):
        parse_spec(raw)

"""The production policy: each rule refuses what it should, accepts what it should."""

from __future__ import annotations

from typing import Any

import pytest

from ingest_operator.policy import Violation, evaluate_policy
from ingest_operator.resolving import SecretValues
from ingest_operator.spec import parse_spec
from tests.support.ingest_service_builders import (
    JWT_SECRET,
    S3_ACCESS_KEY_VALUE,
    S3_SECRET,
    S3_SECRET_KEY_VALUE,
    STRONG_JWT_VALUE,
    minimal_spec,
    production_spec,
)

COMPLIANT_SECRETS = SecretValues(
    jwt_secret_key=STRONG_JWT_VALUE,
    s3_access_key=S3_ACCESS_KEY_VALUE,
    s3_secret_key=S3_SECRET_KEY_VALUE,
)


def _secrets(**changes: str) -> SecretValues:
    values = {
        "jwt_secret_key": COMPLIANT_SECRETS.jwt_secret_key,
        "s3_access_key": COMPLIANT_SECRETS.s3_access_key,
        "s3_secret_key": COMPLIANT_SECRETS.s3_secret_key,
        **changes,
    }
    return SecretValues(**values)


def _violations(spec: dict[str, Any], secrets: SecretValues) -> list[Violation]:
    result = evaluate_policy(parse_spec(spec), secrets)
    assert result is not None
    return result


def test_a_compliant_production_spec_has_no_violation() -> None:
    assert _violations(production_spec(), COMPLIANT_SECRETS) == []


@pytest.mark.parametrize(
    "weak",
    [
        "",
        "change-me",
        "CHANGEME",
        " secret ",
        "dev-secret",
        # The service's own development default: long enough, refused by name.
        "development-only-jwt-secret-change-me-in-production",
        "a" * 31,
        # 16 characters, 32 bytes in UTF-8 would pass; 31 bytes must not.
        "éèêëàâäôöûüçñíó" + "x",
        # Long enough, and not random.
        "a" * 32,
        "changeme" * 4,
    ],
)
def test_a_default_or_weak_jwt_key_is_refused(weak: str) -> None:
    violations = _violations(production_spec(), _secrets(jwt_secret_key=weak))

    assert [v.field for v in violations] == ["spec.auth.jwtSecretRef"]
    assert repr(JWT_SECRET) in violations[0].message


@pytest.mark.parametrize("strong", ["éèêëàâäôöûüçñíóú", STRONG_JWT_VALUE])
def test_a_jwt_key_of_32_bytes_or_more_is_accepted(strong: str) -> None:
    assert _violations(production_spec(), _secrets(jwt_secret_key=strong)) == []


def test_the_length_is_counted_in_bytes_and_reported() -> None:
    violations = _violations(production_spec(), _secrets(jwt_secret_key="k" * 20))

    assert "20 bytes" in violations[0].message
    assert "at least 32" in violations[0].message


def test_a_generated_jwt_key_is_judged_under_spec_auth() -> None:
    raw = production_spec()
    del raw["auth"]["jwtSecretRef"]

    violations = _violations(raw, _secrets(jwt_secret_key="short"))

    assert [v.field for v in violations] == ["spec.auth"]
    assert "generated" in violations[0].message


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"s3_access_key": "minioadmin"}, ["access key"]),
        ({"s3_secret_key": "minioadmin"}, ["secret key"]),
        ({"s3_access_key": "minioadmin", "s3_secret_key": "minioadmin"}, ["access", "secret"]),
    ],
)
def test_minio_default_keys_are_refused_each_on_its_own(
    changes: dict[str, str], expected: list[str]
) -> None:
    violations = _violations(production_spec(), _secrets(**changes))

    assert len(violations) == len(expected)
    for violation, word in zip(violations, expected, strict=True):
        assert violation.field == "spec.s3.credentialsSecretRef"
        assert word in violation.message
        assert repr(S3_SECRET) in violation.message


def test_keys_that_merely_contain_minioadmin_are_accepted() -> None:
    secrets = _secrets(s3_access_key="minioadmin-prod", s3_secret_key="xminioadmin")
    assert _violations(production_spec(), secrets) == []


def test_cors_any_origin_is_refused() -> None:
    raw = production_spec(cors={"origins": ["https://app.example.com", "*"]})

    assert _violations(raw, COMPLIANT_SECRETS) == [
        Violation("spec.cors.origins", 'allows every origin ("*")')
    ]


def test_debug_is_refused() -> None:
    assert _violations(production_spec(debug=True), COMPLIANT_SECRETS) == [
        Violation("spec.debug", "must be false in production")
    ]


def test_a_plain_http_endpoint_is_refused_unless_said_to_be_in_the_cluster() -> None:
    """The service's own check (S3_ALLOW_PLAIN_HTTP), mirrored."""
    plain = production_spec()
    plain["s3"]["endpoint"] = "http://minio.storage.svc:9000"
    violations = _violations(plain, COMPLIANT_SECRETS)
    assert [v.field for v in violations] == ["spec.s3.endpoint"]
    assert "allowPlainHttp" in violations[0].message

    plain["s3"]["allowPlainHttp"] = True
    assert _violations(plain, COMPLIANT_SECRETS) == []


def test_every_violation_is_listed_at_once() -> None:
    raw = production_spec(debug=True, cors={"origins": ["*"]})
    secrets = SecretValues("change-me", "minioadmin", "minioadmin")

    fields = [v.field for v in _violations(raw, secrets)]

    assert fields == [
        "spec.auth.jwtSecretRef",
        "spec.s3.credentialsSecretRef",
        "spec.s3.credentialsSecretRef",
        "spec.cors.origins",
        "spec.debug",
    ]


def test_messages_never_carry_a_secret_value() -> None:
    secrets = SecretValues("tiny-jwt-q8", "minioadmin", "minioadmin")
    for violation in _violations(production_spec(), secrets):
        assert "tiny-jwt-q8" not in violation.describe()


@pytest.mark.parametrize("environment", ["development", "staging"])
def test_outside_production_nothing_is_refused(environment: str) -> None:
    raw = {**minimal_spec(), "environment": environment, "debug": True}
    raw["cors"] = {"origins": ["*"]}
    secrets = SecretValues("change-me", "minioadmin", "minioadmin")

    assert evaluate_policy(parse_spec(raw), secrets) == []
    # Unreadable Secrets do not matter where the policy does not apply.
    assert evaluate_policy(parse_spec(raw), None) == []


def test_production_cannot_judge_secrets_it_could_not_read() -> None:
    assert evaluate_policy(parse_spec(production_spec()), None) is None


def test_describe_names_the_field() -> None:
    assert Violation("spec.debug", "must be false").describe() == "spec.debug: must be false"

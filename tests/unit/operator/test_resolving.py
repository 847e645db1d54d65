"""Secret references resolve to values, or to a precise list of what is missing."""

from __future__ import annotations

from ingest_operator.resolving import (
    MissingSecretKey,
    SecretValues,
    referenced_secret_names,
    resolve_secrets,
)
from ingest_operator.spec import SecretName, parse_spec
from tests.support.ingest_service_builders import (
    ADMIN_SECRET,
    DATABASE_URL_VALUE,
    DB_SECRET,
    GENERATED_JWT_VALUE,
    JWT_SECRET,
    REDIS_SECRET,
    S3_ACCESS_KEY_VALUE,
    S3_SECRET,
    S3_SECRET_KEY_VALUE,
    STRONG_JWT_VALUE,
    minimal_spec,
    referenced_secrets,
    spec_with_every_reference,
)

GENERATED = SecretName("demo-generated")


def test_referenced_names_include_the_generated_secret_without_a_jwt_ref() -> None:
    spec = parse_spec(minimal_spec())

    assert referenced_secret_names(spec, GENERATED) == {
        DB_SECRET,
        REDIS_SECRET,
        S3_SECRET,
        GENERATED,
    }


def test_referenced_names_with_every_reference() -> None:
    spec = parse_spec(spec_with_every_reference())

    assert referenced_secret_names(spec, GENERATED) == {
        DB_SECRET,
        REDIS_SECRET,
        S3_SECRET,
        JWT_SECRET,
        ADMIN_SECRET,
    }


def test_every_reference_resolves() -> None:
    spec = parse_spec(spec_with_every_reference())

    resolution = resolve_secrets(spec, referenced_secrets(), GENERATED)

    assert resolution.missing == ()
    assert resolution.values == SecretValues(
        jwt_secret_key=STRONG_JWT_VALUE,
        s3_access_key=S3_ACCESS_KEY_VALUE,
        s3_secret_key=S3_SECRET_KEY_VALUE,
    )


def test_the_generated_jwt_key_is_read_from_the_generated_secret() -> None:
    spec = parse_spec(minimal_spec())
    secrets = {**referenced_secrets(), GENERATED: {"jwtSecretKey": GENERATED_JWT_VALUE}}

    resolution = resolve_secrets(spec, secrets, GENERATED)

    assert resolution.values is not None
    assert resolution.values.jwt_secret_key == GENERATED_JWT_VALUE


def test_a_missing_secret_and_a_missing_key_are_told_apart() -> None:
    spec = parse_spec(spec_with_every_reference())
    secrets = referenced_secrets()
    del secrets[S3_SECRET]
    del secrets[DB_SECRET]["url"]

    resolution = resolve_secrets(spec, secrets, GENERATED)

    assert resolution.values is None
    assert [(m.env_var, m.secret_exists) for m in resolution.missing] == [
        ("DATABASE_URL", True),
        ("S3_ACCESS_KEY", False),
        ("S3_SECRET_KEY", False),
    ]
    assert resolution.missing[0].describe() == (
        f"Secret {DB_SECRET!r} has no key 'url' (spec.postgres.urlSecretRef)"
    )
    assert resolution.missing[1].describe() == (
        f"Secret {S3_SECRET!r} (spec.s3.credentialsSecretRef) does not exist"
    )


def test_a_missing_bootstrap_secret_is_reported_like_any_other() -> None:
    spec = parse_spec(spec_with_every_reference())
    secrets = referenced_secrets()
    del secrets[ADMIN_SECRET]

    resolution = resolve_secrets(spec, secrets, GENERATED)

    assert {m.env_var for m in resolution.missing} == {
        "BOOTSTRAP_ADMIN_USERNAME",
        "BOOTSTRAP_ADMIN_PASSWORD",
    }
    assert all(isinstance(m, MissingSecretKey) for m in resolution.missing)


def test_checksum_data_holds_only_the_keys_the_pods_read() -> None:
    spec = parse_spec(spec_with_every_reference())
    secrets = referenced_secrets()
    secrets[S3_SECRET] = {**secrets[S3_SECRET], "unrelated": "not-read-by-any-pod"}

    resolution = resolve_secrets(spec, secrets, GENERATED)

    assert resolution.checksum_data[S3_SECRET] == {
        "accessKey": S3_ACCESS_KEY_VALUE,
        "secretKey": S3_SECRET_KEY_VALUE,
    }
    assert set(resolution.checksum_data) == {
        DB_SECRET,
        REDIS_SECRET,
        S3_SECRET,
        JWT_SECRET,
        ADMIN_SECRET,
    }


def test_database_settings_hold_only_the_database_url() -> None:
    spec = parse_spec(spec_with_every_reference())
    secrets = referenced_secrets()
    secrets[DB_SECRET] = {**secrets[DB_SECRET], "unrelated": "not-read-by-any-pod"}

    resolution = resolve_secrets(spec, secrets, GENERATED)

    assert resolution.database_settings == {"DATABASE_URL": DATABASE_URL_VALUE}


def test_database_settings_follow_the_reference_s_secret_and_key() -> None:
    raw = {**minimal_spec(), "postgres": {"urlSecretRef": {"name": "ingest-db-2", "key": "dsn"}}}
    secrets = {**referenced_secrets(), "ingest-db-2": {"dsn": "postgresql://x@db-2/ingest"}}

    resolution = resolve_secrets(parse_spec(raw), secrets, GENERATED)

    assert resolution.database_settings == {"DATABASE_URL": "postgresql://x@db-2/ingest"}


def test_a_missing_database_url_leaves_the_database_settings_empty() -> None:
    secrets = referenced_secrets()
    del secrets[DB_SECRET]

    resolution = resolve_secrets(parse_spec(spec_with_every_reference()), secrets, GENERATED)

    assert resolution.database_settings == {}
    assert [m.env_var for m in resolution.missing] == ["DATABASE_URL"]

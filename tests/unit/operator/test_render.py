"""render_desired_objects: which children, owned and labelled how, and the checksum."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest

from ingest_operator import naming
from ingest_operator.render import (
    MissingRenderInputError,
    compute_checksum,
    compute_database_digest,
)
from ingest_operator.resolving import resolve_secrets
from ingest_operator.service_env import render_config_data
from ingest_operator.spec import IngestServiceSpec, SecretName, parse_spec
from tests.support.ingest_service_builders import (
    ADMIN_SECRET,
    DATABASE_URL_VALUE,
    DB_SECRET,
    GENERATED_JWT_VALUE,
    IMAGE,
    JWT_SECRET,
    REDIS_SECRET,
    S3_SECRET,
    minimal_spec,
    referenced_secrets,
    spec_with_every_reference,
)
from tests.unit.operator.rendered_children import (
    CHECKSUM,
    CHECKSUM_KEY,
    DATABASE_DIGEST,
    OWNER,
    migration_job,
    render_children,
)

GENERATED = SecretName("demo-generated")


# --- which objects --------------------------------------------------------------


def test_a_minimal_spec_renders_every_child() -> None:
    objects = render_children()

    migration = naming.migration_job_name("demo", IMAGE, DATABASE_DIGEST)
    assert list(objects) == [
        ("Secret", "demo-generated"),
        ("ConfigMap", "demo-config"),
        ("Job", migration),
        ("Deployment", "demo-api"),
        ("Service", "demo-api"),
        ("Deployment", "demo-worker"),
        ("CronJob", "demo-purge"),
        ("PodDisruptionBudget", "demo-api"),
        ("PodDisruptionBudget", "demo-worker"),
    ]


def test_api_versions_are_the_current_ones() -> None:
    versions = {kind: o["apiVersion"] for (kind, _), o in render_children().items()}
    assert versions == {
        "Secret": "v1",
        "ConfigMap": "v1",
        "Job": "batch/v1",
        "Deployment": "apps/v1",
        "Service": "v1",
        "CronJob": "batch/v1",
        "PodDisruptionBudget": "policy/v1",
    }


def _decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}


def test_with_a_jwt_secret_ref_only_the_checksum_key_is_generated() -> None:
    objects = render_children(spec_with_every_reference(), generated_jwt_secret=None)
    assert [name for kind, name in objects if kind == "Secret"] == ["demo-generated"]
    assert _decoded(objects["Secret", "demo-generated"]) == {"checksumKey": CHECKSUM_KEY}


def test_the_generated_secret_holds_the_generated_jwt_key_and_the_checksum_key() -> None:
    secret = render_children()["Secret", "demo-generated"]
    # Watched, so that a hand edit or a deletion is restored at once.
    assert secret["metadata"]["labels"][naming.RELOAD_LABEL] == "true"

    assert secret["type"] == "Opaque"
    assert _decoded(secret) == {"jwtSecretKey": GENERATED_JWT_VALUE, "checksumKey": CHECKSUM_KEY}


def test_a_generated_jwt_key_is_kept_when_a_jwt_secret_ref_replaces_it() -> None:
    # Pods of the earlier spec may read it until their migration lets them go.
    objects = render_children(spec_with_every_reference(), generated_jwt_secret="kept-key")
    assert _decoded(objects["Secret", "demo-generated"])["jwtSecretKey"] == "kept-key"


def test_without_a_jwt_ref_the_generated_key_is_required() -> None:
    with pytest.raises(MissingRenderInputError, match="generated JWT key"):
        render_children(generated_jwt_secret=None)


@pytest.mark.parametrize(
    ("api", "worker", "budgets"),
    [
        (2, 2, {"demo-api", "demo-worker"}),
        (1, 3, {"demo-worker"}),
        (3, 1, {"demo-api"}),
        (1, 0, set()),
    ],
)
def test_a_disruption_budget_only_with_two_replicas_or_more(
    api: int, worker: int, budgets: set[str]
) -> None:
    objects = render_children({**minimal_spec(), "replicas": {"api": api, "worker": worker}})

    assert {name for kind, name in objects if kind == "PodDisruptionBudget"} == budgets
    assert objects["Deployment", "demo-api"]["spec"]["replicas"] == api
    assert objects["Deployment", "demo-worker"]["spec"]["replicas"] == worker


def test_a_disruption_budget_selects_its_deployment_s_pods() -> None:
    objects = render_children()
    for name in ("demo-api", "demo-worker"):
        budget = objects["PodDisruptionBudget", name]["spec"]
        deployment = objects["Deployment", name]["spec"]
        assert budget["maxUnavailable"] == 1
        assert budget["selector"] == deployment["selector"]


# --- ownership and labels -------------------------------------------------------------


def test_every_child_is_controlled_by_the_ingest_service() -> None:
    for key, obj in render_children().items():
        assert obj["metadata"]["namespace"] == "team-a", key
        assert obj["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "ingest.example.com/v1alpha1",
                "kind": "IngestService",
                "name": "demo",
                "uid": OWNER.uid,
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ], key


def test_every_child_carries_the_standard_labels() -> None:
    for key, obj in render_children().items():
        labels = obj["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == "ingest-service", key
        assert labels["app.kubernetes.io/instance"] == "demo", key
        assert labels["app.kubernetes.io/part-of"] == "ingest-service", key
        assert labels["app.kubernetes.io/managed-by"] == "ingest-operator", key
        assert labels["app.kubernetes.io/version"] == "1.4.2", key
        assert labels["app.kubernetes.io/component"], key


def test_components_tell_the_children_apart() -> None:
    components = {
        key: obj["metadata"]["labels"]["app.kubernetes.io/component"]
        for key, obj in render_children().items()
    }
    assert components["Deployment", "demo-api"] == "api"
    assert components["Deployment", "demo-worker"] == "worker"
    assert components["ConfigMap", "demo-config"] == "config"
    assert components["Secret", "demo-generated"] == "generated-secret"


def test_pods_carry_their_deployment_s_selector_and_the_selector_no_version() -> None:
    objects = render_children()
    for name in ("demo-api", "demo-worker"):
        spec = objects["Deployment", name]["spec"]
        selector = spec["selector"]["matchLabels"]
        # A selector cannot change after creation; a version in it would break upgrades.
        assert "app.kubernetes.io/version" not in selector
        assert selector.items() <= spec["template"]["metadata"]["labels"].items()


# --- configuration and environment -----------------------------------------------------


def test_the_config_map_holds_the_non_secret_settings() -> None:
    assert render_children()["ConfigMap", "demo-config"]["data"] == {
        "ENVIRONMENT": "development",
        "DEBUG": "false",
        "LOG_LEVEL": "info",
        "LOG_FORMAT": "json",
        "S3_ENDPOINT": "https://s3.example.com",
        "S3_ALLOW_PLAIN_HTTP": "false",
        "S3_REGION": "us-east-1",
        "S3_BUCKET": "ingest-logs",
        "CORS_ORIGINS": "[]",
        "RATE_LIMIT_PER_MINUTE": "120",
        "MAX_DECOMPRESSED_BYTES": str(20 * 1024**3),
        "MAX_COMPRESSION_RATIO": "200",
        "MAX_LINE_BYTES": "65536",
        "MAX_PROCESSING_SECONDS": "3600",
        "MAX_JOB_RETRIES": "3",
        "RETAIN_UPLOADS_DAYS": "7",
        "RETAIN_RESULTS_DAYS": "30",
        "RETAIN_FINISHED_JOBS_DAYS": "90",
        "PASSWORD_LOGIN": "true",
        "OIDC_ISSUERS": "[]",
    }


def test_the_purge_runs_on_the_retention_schedule_one_run_at_a_time() -> None:
    raw = {
        **minimal_spec(),
        "retention": {"uploadsDays": 2, "resultsDays": 14, "purgeSchedule": "*/30 * * * *"},
    }
    children = render_children(raw)
    cron_job = children["CronJob", "demo-purge"]
    data = children["ConfigMap", "demo-config"]["data"]

    assert cron_job["spec"]["schedule"] == "*/30 * * * *"
    assert cron_job["spec"]["concurrencyPolicy"] == "Forbid"
    job = cron_job["spec"]["jobTemplate"]["spec"]
    assert job["template"]["spec"]["restartPolicy"] == "Never"
    assert job["template"]["spec"]["containers"][0]["args"] == ["purge"]
    assert (data["RETAIN_UPLOADS_DAYS"], data["RETAIN_RESULTS_DAYS"]) == ("2", "14")
    assert data["RETAIN_FINISHED_JOBS_DAYS"] == "90"
    assert cron_job["metadata"]["ownerReferences"][0]["kind"] == "IngestService"


def test_cors_origins_are_a_json_list() -> None:
    origins = ["https://a.example.com", "https://b.example.com"]
    raw = {**minimal_spec(), "cors": {"origins": origins}, "debug": True}

    data = render_children(raw)["ConfigMap", "demo-config"]["data"]

    assert json.loads(data["CORS_ORIGINS"]) == origins
    assert data["DEBUG"] == "true"


# --- service and migration ----------------------------------------------------------------


def test_the_service_exposes_the_api_pods() -> None:
    raw = {**minimal_spec(), "service": {"type": "NodePort", "port": 8080}}
    objects = render_children(raw)
    service = objects["Service", "demo-api"]["spec"]

    assert service["type"] == "NodePort"
    assert service["ports"] == [
        {"name": "http", "port": 8080, "targetPort": "http", "protocol": "TCP"}
    ]
    assert (
        service["selector"] == objects["Deployment", "demo-api"]["spec"]["selector"]["matchLabels"]
    )


def test_the_migration_job_is_named_after_the_image() -> None:
    first = migration_job(render_children())["metadata"]["name"]
    again = migration_job(render_children())["metadata"]["name"]
    newer = migration_job(
        render_children({**minimal_spec(), "image": "registry.example.com/ingest-api:1.5.0"})
    )

    assert first == again
    assert first.startswith("demo-migrate-")
    assert len(first) == len("demo-migrate-") + 8
    assert newer["metadata"]["name"] != first


def _migration_job_name(
    raw: dict[str, Any], secrets: dict[str, dict[str, str]], **inputs: Any
) -> str:
    """The Job's name as a reconciliation renders it, from the spec and the Secrets it read."""
    spec = parse_spec(raw)
    resolution = resolve_secrets(spec, secrets, GENERATED)
    children = render_children(
        raw,
        checksum=compute_checksum(CHECKSUM_KEY, render_config_data(spec), resolution.checksum_data),
        database_digest=compute_database_digest(CHECKSUM_KEY, resolution.database_settings),
        **inputs,
    )
    return str(migration_job(children)["metadata"]["name"])


def test_a_new_database_url_gets_a_new_migration_job() -> None:
    raw = spec_with_every_reference()
    before = _migration_job_name(raw, referenced_secrets())
    moved = referenced_secrets()
    moved[DB_SECRET]["url"] = "postgresql://ingest:db-password-7f3a91@db-new.internal:5432/ingest"

    assert _migration_job_name(raw, moved) != before


def test_another_database_secret_gets_a_new_migration_job_unless_its_url_is_the_same() -> None:
    raw = spec_with_every_reference()
    before = _migration_job_name(raw, referenced_secrets())
    raw["postgres"] = {"urlSecretRef": {"name": "ingest-db-restored", "key": "dsn"}}
    other = {**referenced_secrets(), "ingest-db-restored": {"dsn": "postgresql://x@restored/db"}}
    copied = {**referenced_secrets(), "ingest-db-restored": {"dsn": DATABASE_URL_VALUE}}

    assert _migration_job_name(raw, other) != before
    # The same database under another Secret: the schema is there already.
    assert _migration_job_name(raw, copied) == before


@pytest.mark.parametrize(
    ("secret", "key", "value"),
    [
        (REDIS_SECRET, "url", "redis://:redis-password-rotated@redis.internal:6379/0"),
        (S3_SECRET, "secretKey", "s3-secret-key-rotated-771f"),
        (JWT_SECRET, "jwtSecretKey", "jwt-signing-key-rotated-9c1d5e7a2b4f6a8c0e2d4f6a"),
        (ADMIN_SECRET, "password", "admin-password-rotated-55e1"),
        # A key of the database Secret that no pod reads.
        (DB_SECRET, "readOnlyUrl", "postgresql://reader@replica.internal/ingest"),
    ],
)
def test_other_secret_changes_keep_the_migration_job(secret: str, key: str, value: str) -> None:
    raw = spec_with_every_reference()
    before = _migration_job_name(raw, referenced_secrets())
    changed = referenced_secrets()
    changed[secret] = {**changed[secret], key: value}

    assert _migration_job_name(raw, changed) == before


def test_configuration_and_restarts_keep_the_migration_job() -> None:
    raw = spec_with_every_reference()
    secrets = referenced_secrets()
    before = _migration_job_name(raw, secrets)
    changed = {
        **raw,
        "logLevel": "debug",
        "replicas": {"api": 3, "worker": 4},
        "s3": {**raw["s3"], "bucket": "other-bucket"},
    }

    assert _migration_job_name(changed, secrets, restarted_at="2025-01-01T00:00:00Z") == before


def test_the_database_digest_is_an_hmac_of_the_url_under_the_checksum_key() -> None:
    digest = compute_database_digest(CHECKSUM_KEY, {"DATABASE_URL": DATABASE_URL_VALUE})

    assert re.fullmatch("[0-9a-f]{64}", digest)
    assert digest == DATABASE_DIGEST
    assert digest != compute_database_digest(
        CHECKSUM_KEY, {"DATABASE_URL": DATABASE_URL_VALUE + "2"}
    )
    # Without the key, a guessed password cannot be checked against it (D12).
    unkeyed = hashlib.sha256(
        json.dumps(
            {"database": {"DATABASE_URL": DATABASE_URL_VALUE}}, separators=(",", ":")
        ).encode()
    ).hexdigest()
    assert digest not in (
        unkeyed,
        compute_database_digest("another-key", {"DATABASE_URL": DATABASE_URL_VALUE}),
    )


def test_the_migration_job_runs_once_and_is_immutable_friendly() -> None:
    job = migration_job(render_children(checksum="1" * 64))
    template = job["spec"]["template"]

    assert template["spec"]["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] >= 1
    assert job["spec"]["activeDeadlineSeconds"] > 0
    # A Job's template cannot change, so it must not carry the rotating checksum.
    assert "annotations" not in template["metadata"]


# --- checksum ------------------------------------------------------------------------------


def test_pod_templates_carry_the_checksum_and_the_restart_request() -> None:
    objects = render_children(checksum="a" * 64, restarted_at="2025-01-01T00:00:00Z")
    for name in ("demo-api", "demo-worker"):
        annotations = objects["Deployment", name]["spec"]["template"]["metadata"]["annotations"]
        assert annotations == {
            "ingest.example.com/checksum": "a" * 64,
            "ingest.example.com/restartedAt": "2025-01-01T00:00:00Z",
        }


def test_without_a_restart_request_only_the_checksum() -> None:
    template = render_children()["Deployment", "demo-api"]["spec"]["template"]
    assert template["metadata"]["annotations"] == {"ingest.example.com/checksum": CHECKSUM}


def _checksum(spec: IngestServiceSpec, secrets: dict[str, dict[str, str]]) -> str:
    resolution = resolve_secrets(spec, secrets, GENERATED)
    return compute_checksum(CHECKSUM_KEY, render_config_data(spec), resolution.checksum_data)


def test_the_checksum_changes_when_a_referenced_secret_value_changes() -> None:
    spec = parse_spec(spec_with_every_reference())
    before = _checksum(spec, referenced_secrets())
    rotated = referenced_secrets()
    rotated[S3_SECRET]["secretKey"] = "s3-secret-key-rotated-771f"

    assert _checksum(spec, rotated) != before


def test_the_checksum_ignores_keys_no_pod_reads_and_dict_order() -> None:
    spec = parse_spec(spec_with_every_reference())
    before = _checksum(spec, referenced_secrets())
    reordered = dict(reversed(list(referenced_secrets().items())))
    reordered[DB_SECRET] = {"unrelated": "anything", **reordered[DB_SECRET]}

    assert _checksum(spec, reordered) == before


def test_the_checksum_changes_with_the_configuration() -> None:
    secrets = referenced_secrets()
    before = _checksum(parse_spec(spec_with_every_reference()), secrets)
    louder = parse_spec({**spec_with_every_reference(), "logLevel": "debug"})

    assert _checksum(louder, secrets) != before


def test_the_checksum_is_an_hmac_sha256_hex_digest_under_its_key() -> None:
    checksum = compute_checksum("k1", {"A": "1"}, {"s": {"k": "v"}})
    assert re.fullmatch("[0-9a-f]{64}", checksum)
    assert checksum == compute_checksum("k1", {"A": "1"}, {"s": {"k": "v"}})
    assert checksum != compute_checksum("k1", {"A": "1"}, {"s": {"k": "w"}})
    assert checksum != compute_checksum("k2", {"A": "1"}, {"s": {"k": "v"}})

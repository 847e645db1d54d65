"""What the operator refuses to roll out: production-policy violations in referenced
Secrets, and Secrets or keys that do not exist. Nothing new reaches the cluster
until they are fixed, and fixing the Secret is enough."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.support.cluster import Cluster, stays, wait_for
from tests.support.ingest_service_builders import (
    IMAGE,
    JWT_SECRET,
    REDIS_SECRET,
    S3_SECRET,
    STRONG_JWT_VALUE,
    minimal_spec,
    production_spec,
)
from tests.support.operator import (
    REACTION_SECONDS,
    OperatorProcess,
    condition,
    create_and_roll_out,
    create_referenced_secrets,
    events_about,
    ingest_service_manifest,
    migration_jobs,
    pod_template_annotations,
    secret_manifest,
    wait_for_condition,
    wait_for_migration_job,
)

NAME = "shop"
CHECKSUM = "ingest.example.com/checksum"
MINIO_DEFAULTS = {"accessKey": "minioadmin", "secretKey": "minioadmin"}
STRONG_S3_KEYS = {
    "accessKey": "s3-access-key-rotated-71c2",
    "secretKey": "s3-secret-rotated-4be9a1",
}


def encoded(data: dict[str, str]) -> dict[str, str]:
    return {key: base64.b64encode(value.encode()).decode() for key, value in data.items()}


def warnings_about(cluster: Cluster, namespace: str, reason: str) -> list[dict[str, Any]]:
    return [
        event
        for event in events_about(cluster, namespace, NAME)
        if event["type"] == "Warning" and event["reason"] == reason
    ]


def deployments_as_they_are(cluster: Cluster, namespace: str) -> dict[str, tuple[int, str]]:
    """Each Deployment's generation and pod checksum: any rollout changes one of them."""
    state = {}
    for name in (f"{NAME}-api", f"{NAME}-worker"):
        deployment = cluster.get("Deployment", namespace, name) or {}
        annotations = pod_template_annotations(cluster, namespace, name)
        state[name] = (deployment["metadata"]["generation"], annotations[CHECKSUM])
    return state


def test_a_default_jwt_secret_in_production_rolls_out_nothing_until_fixed(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_referenced_secrets(cluster, namespace, **{JWT_SECRET: {"jwtSecretKey": "change-me"}})
    cluster.create(ingest_service_manifest(namespace, NAME, production_spec()))

    resource = wait_for_condition(
        cluster, namespace, NAME, "PolicyCompliant", status="False", reason="PolicyViolation"
    )
    ready = condition(resource, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "PolicyViolation")
    assert "spec.auth.jwtSecretRef" in ready["message"]
    assert "well-known default value" in ready["message"]
    # The message names the Secret and the key, never the value.
    assert "change-me" not in json.dumps(resource["status"])
    wait_for(
        lambda: warnings_about(cluster, namespace, "PolicyViolation"),
        timeout=REACTION_SECONDS,
        message="a Warning Event PolicyViolation",
    )
    stays(
        lambda: (
            not migration_jobs(cluster, namespace, NAME)
            and cluster.get("Deployment", namespace, f"{NAME}-api") is None
        ),
        duration=2,
        message="a non-compliant resource rolled something out",
    )

    cluster.patch(
        "Secret", namespace, JWT_SECRET, {"data": encoded({"jwtSecretKey": STRONG_JWT_VALUE})}
    )

    wait_for_migration_job(cluster, namespace, NAME, IMAGE)
    resource = wait_for_condition(
        cluster, namespace, NAME, "PolicyCompliant", status="True", reason="Compliant"
    )
    assert condition(resource, "Ready")["reason"] == "Migrating"

    # The Event is posted just after the status is written: wait for it.
    def recovered_events() -> list[dict[str, Any]]:
        events = events_about(cluster, namespace, NAME)
        return [event for event in events if event["reason"] == "PolicyCompliant"]

    recovered = wait_for(recovered_events, timeout=REACTION_SECONDS, message="the Event")
    assert [event["type"] for event in recovered] == ["Normal"]


def test_minio_default_keys_stop_any_new_rollout_and_the_old_pods_keep_running(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_and_roll_out(cluster, namespace, NAME, production_spec())
    before = deployments_as_they_are(cluster, namespace)

    cluster.patch("Secret", namespace, S3_SECRET, {"data": encoded(MINIO_DEFAULTS)})

    resource = wait_for_condition(
        cluster, namespace, NAME, "PolicyCompliant", status="False", reason="PolicyViolation"
    )
    message = condition(resource, "PolicyCompliant")["message"]
    # Every violation, not only the first.
    assert message.startswith("2 production-policy violations")
    assert "S3 access key in Secret 'ingest-s3' (key 'accessKey') is MinIO's default" in message
    assert "S3 secret key in Secret 'ingest-s3' (key 'secretKey') is MinIO's default" in message
    assert condition(resource, "Ready")["reason"] == "PolicyViolation"
    wait_for(
        lambda: warnings_about(cluster, namespace, "PolicyViolation"),
        timeout=REACTION_SECONDS,
        message="a Warning Event PolicyViolation",
    )
    # A rotated Secret would normally roll the pods; a refused one rolls nothing.
    stays(
        lambda: deployments_as_they_are(cluster, namespace) == before,
        duration=2,
        message="the Deployments changed although the policy refused the Secret",
    )

    cluster.patch("Secret", namespace, S3_SECRET, {"data": encoded(STRONG_S3_KEYS)})

    wait_for_condition(cluster, namespace, NAME, "PolicyCompliant", status="True")
    # The fixed keys are new keys: now the pods roll, with them.
    wait_for(
        lambda: deployments_as_they_are(cluster, namespace) != before,
        timeout=REACTION_SECONDS,
        message="the Deployments roll with the fixed Secret",
    )


def test_a_missing_secret_gives_a_clear_condition_and_is_picked_up_once_created(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_referenced_secrets(cluster, namespace)
    cluster.delete("Secret", namespace, REDIS_SECRET)
    cluster.create(ingest_service_manifest(namespace, NAME, minimal_spec()))

    resource = wait_for_condition(
        cluster, namespace, NAME, "Degraded", status="True", reason="SecretMissing"
    )
    degraded = condition(resource, "Degraded")
    assert degraded["message"] == ("Secret 'ingest-redis' (spec.redis.urlSecretRef) does not exist")
    assert condition(resource, "Ready")["reason"] == "SecretMissing"
    assert "Traceback" not in json.dumps(resource["status"])
    wait_for(
        lambda: warnings_about(cluster, namespace, "SecretMissing"),
        timeout=REACTION_SECONDS,
        message="a Warning Event SecretMissing",
    )
    assert not migration_jobs(cluster, namespace, NAME)

    # A Secret without the key is named as such.
    cluster.create(secret_manifest(namespace, REDIS_SECRET, {"uri": "redis://wrong-key/0"}))
    wait_for(
        lambda: (
            condition(cluster.get("IngestService", namespace, NAME), "Degraded")["message"]
            == "Secret 'ingest-redis' has no key 'url' (spec.redis.urlSecretRef)"
        ),
        timeout=REACTION_SECONDS,
        message="the condition names the missing key",
    )

    cluster.patch(
        "Secret", namespace, REDIS_SECRET, {"data": encoded({"url": "redis://redis.internal/0"})}
    )
    wait_for_migration_job(cluster, namespace, NAME, IMAGE)
    wait_for_condition(cluster, namespace, NAME, "Degraded", status="False")

"""A new image or a new database migrates the schema first: its Job runs before the
Deployments change, and a failed migration leaves them as they were, with Degraded set.

No kubelet runs the Job's pod here: each test reports the Job's end through
its status subresource, as the pod would have made it (tests/support/kubelet.py).
"""

from __future__ import annotations

import base64
import json

import pytest

from tests.support.cluster import Cluster, stays, wait_for
from tests.support.ingest_service_builders import DB_SECRET, IMAGE, JWT_SECRET, minimal_spec
from tests.support.kubelet import finish_job
from tests.support.operator import (
    REACTION_SECONDS,
    OperatorProcess,
    condition,
    create_and_roll_out,
    events_about,
    migration_jobs,
    pod_template_annotations,
    secret_manifest,
    wait_for_condition,
    wait_for_migration_job,
)

NAME = "shop"
NEW_IMAGE = "registry.example.com/ingest-api:1.5.0"
# A new, empty database: the platform team moved the service, the image stays.
NEW_DATABASE_URL = "postgresql://ingest:db-password-5e8b02@db-new.internal:5432/ingest"
NEW_DB_SECRET = "ingest-db-new"
CHECKSUM = "ingest.example.com/checksum"


def deployment_images(cluster: Cluster, namespace: str) -> set[str]:
    images = set()
    for name in (f"{NAME}-api", f"{NAME}-worker"):
        deployment = cluster.get("Deployment", namespace, name) or {}
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            images.add(container["image"])
    return images


def template_checksums(cluster: Cluster, namespace: str) -> set[str | None]:
    return {
        pod_template_annotations(cluster, namespace, f"{NAME}-{role}").get(CHECKSUM)
        for role in ("api", "worker")
    }


def job_names(cluster: Cluster, namespace: str) -> list[str]:
    return [job["metadata"]["name"] for job in migration_jobs(cluster, namespace, NAME)]


def test_a_new_image_runs_its_migration_job_before_the_deployments_change(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_and_roll_out(cluster, namespace, NAME, minimal_spec())
    (old_job,) = migration_jobs(cluster, namespace, NAME)

    cluster.patch("IngestService", namespace, NAME, {"spec": {"image": NEW_IMAGE}})

    job = wait_for_migration_job(cluster, namespace, NAME, NEW_IMAGE)
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["ingest-migrate"]
    resource = wait_for_condition(
        cluster, namespace, NAME, "Progressing", status="True", reason="Migrating"
    )
    assert job["metadata"]["name"] in condition(resource, "Progressing")["message"]
    stays(
        lambda: deployment_images(cluster, namespace) == {IMAGE},
        duration=2,
        message="the Deployments changed before the migration finished",
    )

    finish_job(cluster, namespace, job["metadata"]["name"], succeeded=True)

    wait_for(
        lambda: deployment_images(cluster, namespace) == {NEW_IMAGE},
        timeout=REACTION_SECONDS,
        message="both Deployments run the new image",
    )
    # The earlier image's Job has served its purpose and is pruned.
    wait_for(
        lambda: (
            [j["metadata"]["name"] for j in migration_jobs(cluster, namespace, NAME)]
            == [job["metadata"]["name"]]
        ),
        timeout=REACTION_SECONDS,
        message=f"the old migration Job {old_job['metadata']['name']} is pruned",
    )


def point_at_the_new_database(cluster: Cluster, namespace: str, how: str) -> None:
    encoded = base64.b64encode(NEW_DATABASE_URL.encode()).decode()
    if how == "new-content":
        cluster.patch("Secret", namespace, DB_SECRET, {"data": {"url": encoded}})
        return
    cluster.create(secret_manifest(namespace, NEW_DB_SECRET, {"url": NEW_DATABASE_URL}))
    cluster.patch(
        "IngestService",
        namespace,
        NAME,
        {"spec": {"postgres": {"urlSecretRef": {"name": NEW_DB_SECRET}}}},
    )


@pytest.mark.parametrize("how", ["new-content", "another-secret"])
def test_a_new_database_runs_its_migration_job_before_the_deployments_change(
    how: str, cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_and_roll_out(cluster, namespace, NAME, minimal_spec())
    (old_job,) = job_names(cluster, namespace)
    old_checksums = template_checksums(cluster, namespace)

    point_at_the_new_database(cluster, namespace, how)

    job = wait_for_migration_job(cluster, namespace, NAME, IMAGE, other_than=old_job)
    name = job["metadata"]["name"]
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["ingest-migrate"]
    # The name covers the database through a short hash; the URL is nowhere in the Job.
    assert name.startswith(f"{NAME}-migrate-")
    assert NEW_DATABASE_URL not in json.dumps(job)
    resource = wait_for_condition(
        cluster, namespace, NAME, "Progressing", status="True", reason="Migrating"
    )
    assert name in condition(resource, "Progressing")["message"]
    stays(
        lambda: template_checksums(cluster, namespace) == old_checksums,
        duration=2,
        message="the Deployments changed before the new database was migrated",
    )

    finish_job(cluster, namespace, name, succeeded=True)

    wait_for(
        lambda: (
            len(checksums := template_checksums(cluster, namespace)) == 1
            and checksums != old_checksums
        ),
        timeout=REACTION_SECONDS,
        message="both Deployments roll to the new database's pod template",
    )
    wait_for(
        lambda: job_names(cluster, namespace) == [name],
        timeout=REACTION_SECONDS,
        message=f"the old database's migration Job {old_job} is pruned",
    )
    stays(
        lambda: job_names(cluster, namespace) == [name],
        duration=2,
        message="a migration Job came back or another one started",
    )


def test_a_failed_migration_stops_the_rollout_with_degraded_and_keeps_the_old_pods(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_and_roll_out(cluster, namespace, NAME, minimal_spec())
    cluster.patch("IngestService", namespace, NAME, {"spec": {"image": NEW_IMAGE}})
    job = wait_for_migration_job(cluster, namespace, NAME, NEW_IMAGE)

    finish_job(cluster, namespace, job["metadata"]["name"], succeeded=False)

    resource = wait_for_condition(
        cluster, namespace, NAME, "Degraded", status="True", reason="MigrationFailed"
    )
    message = condition(resource, "Degraded")["message"]
    assert message == (
        f"Job {job['metadata']['name']} failed "
        "(BackoffLimitExceeded: Job has reached the specified backoff limit)"
    )
    ready = condition(resource, "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "MigrationFailed")
    assert "the pods already running are left as they are" in ready["message"]
    wait_for(
        lambda: any(
            event["type"] == "Warning" and event["reason"] == "MigrationFailed"
            for event in events_about(cluster, namespace, NAME)
        ),
        timeout=REACTION_SECONDS,
        message="a Warning Event MigrationFailed",
    )
    stays(
        lambda: deployment_images(cluster, namespace) == {IMAGE},
        duration=2,
        message="the Deployments changed although the migration failed",
    )


def test_a_spec_change_while_a_migration_runs_is_applied_at_once(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_and_roll_out(cluster, namespace, NAME, minimal_spec())
    cluster.patch("IngestService", namespace, NAME, {"spec": {"image": NEW_IMAGE}})
    wait_for_migration_job(cluster, namespace, NAME, NEW_IMAGE)

    # Waiting for the Job must not park the resource: well within one 30 s poll.
    cluster.patch("IngestService", namespace, NAME, {"spec": {"logLevel": "warning"}})

    wait_for(
        lambda: (
            cluster.must_get("ConfigMap", namespace, f"{NAME}-config")["data"]["LOG_LEVEL"]
            == "warning"
        ),
        timeout=5,
        message="the ConfigMap follows the spec while the migration runs",
    )
    assert deployment_images(cluster, namespace) == {IMAGE}


def test_the_generated_jwt_key_stays_readable_by_the_pods_of_the_earlier_spec(
    cluster: Cluster, namespace: str, operator: OperatorProcess
) -> None:
    create_and_roll_out(cluster, namespace, NAME, minimal_spec())
    generated = f"{NAME}-generated"

    def generated_keys() -> set[str]:
        return set((cluster.get("Secret", namespace, generated) or {}).get("data") or {})

    assert generated_keys() == {"jwtSecretKey", "checksumKey"}

    # One edit: a new image (a migration first) and a key of the team's own.
    cluster.patch(
        "IngestService",
        namespace,
        NAME,
        {"spec": {"image": NEW_IMAGE, "auth": {"jwtSecretRef": {"name": JWT_SECRET}}}},
    )
    job = wait_for_migration_job(cluster, namespace, NAME, NEW_IMAGE)

    # The old pods (and any that restarts now) still read the generated key.
    stays(
        lambda: "jwtSecretKey" in generated_keys(),
        duration=2,
        message="the generated JWT key went while the old pods still read it",
    )
    finish_job(cluster, namespace, job["metadata"]["name"], succeeded=True)
    wait_for(
        lambda: (
            JWT_SECRET
            in str(cluster.must_get("Deployment", namespace, f"{NAME}-api")["spec"]["template"])
        ),
        timeout=REACTION_SECONDS,
        message="the new pods read the team's key",
    )
    # Kept for good, with the checksum key: a spec without the reference again
    # gets the same key back, and nobody is logged out.
    assert generated_keys() == {"jwtSecretKey", "checksumKey"}

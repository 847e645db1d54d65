"""What one reconciliation sends, prunes and waits for, from the rendered children."""

from __future__ import annotations

from typing import Any

import pytest

from ingest_operator.observing import MigrationPhase, MigrationState
from ingest_operator.planning import (
    BACKOFF_CAP_SECONDS,
    KEDA_KINDS,
    MIGRATION_POLL_SECONDS,
    PROMETHEUS_OPERATOR_KINDS,
    Requeue,
    child_key,
    is_foreign,
    is_paused,
    migration_job,
    next_attempt,
    objects_to_apply,
    owns_replicas,
    prunable_kinds,
    requeue_delay,
    restart_requested_at,
    stale_children,
)
from tests.unit.operator.rendered_children import OWNER, render_children


def desired() -> list[dict[str, Any]]:
    return list(render_children().values())


def kinds(objects: list[Any]) -> list[str]:
    return sorted(obj["kind"] for obj in objects)


def owned(kind: str, name: str, uid: str = OWNER.uid) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {
            "name": name,
            "ownerReferences": [{"kind": "IngestService", "uid": uid, "controller": True}],
        },
    }


@pytest.mark.parametrize(
    "phase", [MigrationPhase.PENDING, MigrationPhase.RUNNING, MigrationPhase.FAILED]
)
def test_the_deployments_wait_for_a_successful_migration(phase: MigrationPhase) -> None:
    applied = objects_to_apply(desired(), MigrationState(phase))

    assert "Deployment" not in kinds(applied)
    assert "Job" not in kinds(applied)
    assert "ConfigMap" in kinds(applied)


def test_after_the_migration_everything_but_the_job_is_applied() -> None:
    applied = objects_to_apply(desired(), MigrationState(MigrationPhase.SUCCEEDED))

    assert kinds(applied) == sorted(kind for kind in kinds(desired()) if kind != "Job")


def test_the_migration_job_is_found_among_the_desired_objects() -> None:
    job = migration_job(desired())

    assert child_key(job) == ("Job", job["metadata"]["name"])
    with pytest.raises(ValueError, match="exactly one migration Job"):
        migration_job([obj for obj in desired() if obj["kind"] != "Job"])


def test_only_children_of_this_owner_that_are_no_longer_desired_are_stale() -> None:
    existing = [
        owned("PodDisruptionBudget", "demo-api"),
        owned("Job", "demo-migrate-00000000"),
        owned("Job", "demo-migrate-11111111", uid="another-owner"),
        {"kind": "Secret", "metadata": {"name": "demo-copied-labels"}},
    ]

    stale = stale_children(existing, desired(), OWNER.uid)

    assert [child_key(obj) for obj in stale] == [("Job", "demo-migrate-00000000")]


def test_the_job_of_the_previous_database_is_stale_once_the_database_changes() -> None:
    previous = migration_job(list(render_children(database_digest="a" * 64).values()))
    current = list(render_children(database_digest="b" * 64).values())
    existing = [owned("Job", previous["metadata"]["name"])]

    assert child_key(migration_job(current)) != child_key(previous)
    assert [child_key(obj) for obj in stale_children(existing, current, OWNER.uid)] == [
        child_key(previous)
    ]


@pytest.mark.parametrize(
    ("annotations", "paused"),
    [
        ({}, False),
        ({"ingest.example.com/paused": "true"}, True),
        ({"ingest.example.com/paused": " True "}, True),
        ({"ingest.example.com/paused": "no"}, False),
    ],
)
def test_the_pause_annotation(annotations: dict[str, str], paused: bool) -> None:
    assert is_paused({"metadata": {"annotations": annotations}}) is paused


def test_the_restart_annotation() -> None:
    at = "2026-11-28T10:00:00Z"

    assert restart_requested_at({"metadata": {}}) is None
    assert (
        restart_requested_at({"metadata": {"annotations": {"ingest.example.com/restartedAt": at}}})
        == at
    )


def test_waiting_for_a_migration_polls_at_a_steady_pace() -> None:
    assert (
        requeue_delay(Requeue.POLL, 0) == requeue_delay(Requeue.POLL, 40) == MIGRATION_POLL_SECONDS
    )


def test_waiting_for_a_person_backs_off_up_to_a_cap() -> None:
    delays = [requeue_delay(Requeue.BACKOFF, attempt) for attempt in range(8)]

    assert delays[:3] == [5.0, 10.0, 20.0]
    assert delays == sorted(delays)
    assert requeue_delay(Requeue.BACKOFF, 10_000) == BACKOFF_CAP_SECONDS


def test_back_off_restarts_when_the_kind_of_wait_changes() -> None:
    # Minutes of polling a migration, then a transient error: back off from 5 s.
    attempt = next_attempt(None, Requeue.POLL)
    for _ in range(6):
        attempt = next_attempt(attempt, Requeue.POLL)
    assert attempt == (Requeue.POLL, 6)

    first_error = next_attempt(attempt, Requeue.BACKOFF)
    assert first_error == (Requeue.BACKOFF, 0)
    assert requeue_delay(*first_error) == 5
    assert next_attempt(first_error, Requeue.BACKOFF) == (Requeue.BACKOFF, 1)


def test_an_object_is_foreign_unless_this_owner_controls_it() -> None:
    ours = {"metadata": {"ownerReferences": [{"controller": True, "uid": OWNER.uid}]}}
    theirs = {"metadata": {"ownerReferences": [{"controller": True, "uid": "another-uid"}]}}
    merely_referencing = {"metadata": {"ownerReferences": [{"uid": OWNER.uid}]}}

    assert not is_foreign(None, OWNER.uid)  # nothing there: create it
    assert not is_foreign(ours, OWNER.uid)
    assert is_foreign({"metadata": {"name": "shop-config"}}, OWNER.uid)
    assert is_foreign(theirs, OWNER.uid)
    assert is_foreign(merely_referencing, OWNER.uid)


def test_secrets_are_pruned_only_once_the_migration_let_the_pods_move_on() -> None:
    running = MigrationState(MigrationPhase.RUNNING)

    assert "Secret" not in prunable_kinds(running, served=frozenset())
    assert "Job" in prunable_kinds(running, served=frozenset())
    assert "Secret" in prunable_kinds(MigrationState(MigrationPhase.SUCCEEDED), served=frozenset())


def test_kedas_kinds_are_pruned_only_where_keda_is_installed() -> None:
    done = MigrationState(MigrationPhase.SUCCEEDED)

    assert "HorizontalPodAutoscaler" in prunable_kinds(done, served=frozenset())
    assert "ScaledObject" not in prunable_kinds(done, served=frozenset())
    assert {"ScaledObject", "TriggerAuthentication"} <= set(prunable_kinds(done, served=KEDA_KINDS))
    assert "PodMonitor" not in prunable_kinds(done, served=KEDA_KINDS)


def test_the_pod_monitor_is_pruned_only_where_its_crd_is_installed() -> None:
    done = MigrationState(MigrationPhase.SUCCEEDED)

    assert "PodMonitor" in prunable_kinds(done, served=PROMETHEUS_OPERATOR_KINDS)
    assert "ScaledObject" not in prunable_kinds(done, served=PROMETHEUS_OPERATOR_KINDS)


def test_replicas_are_handed_over_only_while_the_operators_applies_own_them() -> None:
    def deployment(manager: str, operation: str, fields: dict[str, Any]) -> dict[str, Any]:
        entry = {"manager": manager, "operation": operation, "fieldsV1": {"f:spec": fields}}
        return {"metadata": {"managedFields": [entry]}}

    assert owns_replicas(
        deployment("ingest-operator", "Apply", {"f:replicas": {}}), "ingest-operator"
    )
    assert not owns_replicas(
        deployment("ingest-operator", "Apply", {"f:template": {}}), "ingest-operator"
    )
    # The HPA controller writes through the scale subresource (an Update).
    assert not owns_replicas(
        deployment("kube-controller-manager", "Update", {"f:replicas": {}}), "ingest-operator"
    )
    assert not owns_replicas({"metadata": {}}, "ingest-operator")

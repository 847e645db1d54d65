"""Deployment and Job status read the way kubectl reads them."""

from __future__ import annotations

from typing import Any

from ingest_operator.observing import (
    MigrationPhase,
    observe_deployment,
    observe_migration_job,
)


def _deployment(
    *, desired: int = 2, generation: int = 3, observed: int = 3, **status: Any
) -> dict[str, Any]:
    return {
        "metadata": {"generation": generation},
        "spec": {"replicas": desired},
        "status": {"observedGeneration": observed, **status},
    }


def test_a_finished_rollout() -> None:
    status = {"replicas": 2, "updatedReplicas": 2, "readyReplicas": 2, "availableReplicas": 2}
    state = observe_deployment(_deployment(desired=2, **status))
    assert state.rolled_out
    assert state.ready == 2
    assert state.describe() == "2/2 ready, 2 up to date"


def test_a_spec_the_controller_has_not_seen_is_not_rolled_out() -> None:
    state = observe_deployment(
        _deployment(generation=4, observed=3, replicas=2, updatedReplicas=2, availableReplicas=2)
    )
    assert not state.observed_latest_spec
    assert not state.rolled_out


def test_pods_not_yet_updated_mean_not_rolled_out() -> None:
    status = {"replicas": 3, "updatedReplicas": 2, "readyReplicas": 3, "availableReplicas": 3}
    state = observe_deployment(_deployment(desired=3, **status))
    assert not state.rolled_out


def test_surplus_old_pods_mean_not_rolled_out() -> None:
    status = {"replicas": 3, "updatedReplicas": 2, "availableReplicas": 2}
    state = observe_deployment(_deployment(desired=2, **status))
    assert state.current == 3
    assert not state.rolled_out


def test_unavailable_new_pods_mean_not_rolled_out() -> None:
    status = {"replicas": 2, "updatedReplicas": 2, "availableReplicas": 1}
    assert not observe_deployment(_deployment(desired=2, **status)).rolled_out


def test_a_fresh_deployment_without_status() -> None:
    state = observe_deployment({"metadata": {"generation": 1}, "spec": {"replicas": 2}})
    assert (state.ready, state.updated, state.rolled_out) == (0, 0, False)


def test_zero_replicas_are_rolled_out_at_once() -> None:
    assert observe_deployment(_deployment(desired=0)).rolled_out


def test_a_stalled_rollout_carries_the_controller_s_message() -> None:
    condition = {
        "type": "Progressing",
        "status": "False",
        "reason": "ProgressDeadlineExceeded",
        "message": 'ReplicaSet "demo-api-5d8" has timed out progressing.',
    }
    state = observe_deployment(_deployment(conditions=[condition]))
    assert state.stalled_message == 'ReplicaSet "demo-api-5d8" has timed out progressing.'


def test_a_progressing_deployment_is_not_stalled() -> None:
    condition = {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"}
    assert observe_deployment(_deployment(conditions=[condition])).stalled_message is None


def test_no_job_yet_is_pending() -> None:
    assert observe_migration_job(None).phase is MigrationPhase.PENDING


def test_a_job_without_a_final_condition_is_running() -> None:
    job = {"metadata": {"name": "demo-migrate-1a2b3c4d"}, "status": {"active": 1}}
    state = observe_migration_job(job)
    assert state.phase is MigrationPhase.RUNNING
    assert state.job_name == "demo-migrate-1a2b3c4d"


def test_a_complete_job_succeeded() -> None:
    job = {
        "metadata": {"name": "m"},
        "status": {"conditions": [{"type": "Complete", "status": "True"}]},
    }
    assert observe_migration_job(job).phase is MigrationPhase.SUCCEEDED


def test_a_failed_job_carries_its_reason_and_message() -> None:
    failed = {
        "type": "Failed",
        "status": "True",
        "reason": "BackoffLimitExceeded",
        "message": "Job has reached the specified backoff limit",
    }
    state = observe_migration_job({"metadata": {"name": "m"}, "status": {"conditions": [failed]}})
    assert state.phase is MigrationPhase.FAILED
    assert state.message == "BackoffLimitExceeded: Job has reached the specified backoff limit"


def test_a_false_condition_is_not_taken_for_a_true_one() -> None:
    conditions = [{"type": "Failed", "status": "False"}, {"type": "Complete", "status": "False"}]
    job = {"metadata": {"name": "m"}, "status": {"conditions": conditions}}
    assert observe_migration_job(job).phase is MigrationPhase.RUNNING

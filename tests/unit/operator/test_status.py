"""Conditions and status: each situation gives the conditions a user would expect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from ingest_operator.observing import DeploymentState, MigrationPhase, MigrationState
from ingest_operator.policy import Violation
from ingest_operator.resolving import MissingSecretKey
from ingest_operator.spec import SecretKey, SecretName, parse_spec
from ingest_operator.status import (
    Observation,
    derive_conditions,
    format_time,
    merge_conditions,
    render_invalid_spec_status,
    render_paused_conditions,
    render_status,
)
from tests.support.ingest_service_builders import minimal_spec

T0 = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=5)
SUCCEEDED = MigrationState(MigrationPhase.SUCCEEDED, "demo-migrate-1a2b3c4d")


def _deployment(desired: int = 2, ready: int = 2, **changes: Any) -> DeploymentState:
    fields: dict[str, Any] = {
        "desired": desired,
        "current": ready,
        "updated": ready,
        "ready": ready,
        "available": ready,
        "observed_latest_spec": True,
        **changes,
    }
    return DeploymentState(**fields)


def _available(**changes: Any) -> Observation:
    fields: dict[str, Any] = {
        "generation": 4,
        "migration": SUCCEEDED,
        "api": _deployment(),
        "worker": _deployment(),
        **changes,
    }
    return Observation(**fields)


def _conditions(observation: Observation) -> dict[str, tuple[str, str]]:
    """type -> (status, reason)."""
    return {c.type.value: (c.status, c.reason) for c in derive_conditions(observation)}


def _messages(observation: Observation) -> dict[str, str]:
    return {c.type.value: c.message for c in derive_conditions(observation)}


MISSING = MissingSecretKey(
    env_var="S3_ACCESS_KEY",
    secret=SecretName("ingest-s3"),
    key=SecretKey("accessKey"),
    source="spec.s3.credentialsSecretRef",
    secret_exists=False,
)


def test_everything_available_is_ready() -> None:
    assert _conditions(_available()) == {
        "Ready": ("True", "Available"),
        "Progressing": ("False", "Available"),
        "Degraded": ("False", "AsExpected"),
        "PolicyCompliant": ("True", "Compliant"),
    }


def test_before_the_deployments_exist_it_is_creating() -> None:
    conditions = _conditions(_available(api=None, worker=None))
    assert conditions["Ready"] == ("False", "Creating")
    assert conditions["Progressing"] == ("True", "Creating")


def test_a_rollout_in_flight_is_progressing_not_ready() -> None:
    observation = _available(api=_deployment(desired=3, ready=1))

    conditions = _conditions(observation)

    assert conditions["Ready"] == ("False", "RollingOut")
    assert conditions["Progressing"] == ("True", "RollingOut")
    assert conditions["Degraded"] == ("False", "AsExpected")
    assert "api 1/3 ready" in _messages(observation)["Progressing"]


def test_a_running_migration_holds_the_rollout() -> None:
    running = MigrationState(MigrationPhase.RUNNING, "demo-migrate-1a2b3c4d")

    conditions = _conditions(_available(migration=running))

    assert conditions["Ready"] == ("False", "Migrating")
    assert conditions["Progressing"] == ("True", "Migrating")
    assert "demo-migrate-1a2b3c4d" in _messages(_available(migration=running))["Ready"]


def test_a_failed_migration_is_degraded_with_the_job_s_message() -> None:
    failed = MigrationState(
        MigrationPhase.FAILED, "demo-migrate-1a2b3c4d", "BackoffLimitExceeded: backoff limit"
    )
    observation = _available(migration=failed)

    conditions = _conditions(observation)
    messages = _messages(observation)

    assert conditions["Degraded"] == ("True", "MigrationFailed")
    assert conditions["Ready"] == ("False", "MigrationFailed")
    assert conditions["Progressing"] == ("False", "MigrationFailed")
    assert "BackoffLimitExceeded: backoff limit" in messages["Degraded"]
    assert "left as they are" in messages["Ready"]


def test_policy_violations_block_with_every_violation_listed() -> None:
    violations = (
        Violation("spec.auth.jwtSecretRef", "is a well-known default value"),
        Violation("spec.s3.credentialsSecretRef", "is MinIO's default"),
    )
    observation = _available(violations=violations)

    conditions = _conditions(observation)
    message = _messages(observation)["PolicyCompliant"]

    assert conditions["PolicyCompliant"] == ("False", "PolicyViolation")
    assert conditions["Ready"] == ("False", "PolicyViolation")
    assert conditions["Progressing"] == ("False", "PolicyViolation")
    # A policy violation is the user's to fix, not a failure of what runs.
    assert conditions["Degraded"] == ("False", "AsExpected")
    assert message.startswith("2 production-policy violations: ")
    assert "spec.auth.jwtSecretRef: is a well-known default value" in message
    assert "spec.s3.credentialsSecretRef: is MinIO's default" in message


def test_a_missing_secret_is_degraded_and_the_policy_unknown() -> None:
    observation = _available(missing_secrets=(MISSING,), violations=None)

    conditions = _conditions(observation)
    messages = _messages(observation)

    assert conditions["Degraded"] == ("True", "SecretMissing")
    assert conditions["Ready"] == ("False", "SecretMissing")
    assert conditions["PolicyCompliant"] == ("Unknown", "SecretsUnavailable")
    assert (
        "Secret 'ingest-s3' (spec.s3.credentialsSecretRef) does not exist" in messages["Degraded"]
    )


def test_two_keys_of_one_missing_secret_are_reported_once() -> None:
    other_key = MissingSecretKey(
        "S3_SECRET_KEY", MISSING.secret, SecretKey("secretKey"), MISSING.source, False
    )
    message = _messages(_available(missing_secrets=(MISSING, other_key)))["Degraded"]
    assert message.count("does not exist") == 1


def test_a_stalled_deployment_is_degraded() -> None:
    stalled = _deployment(ready=1, stalled_message="ReplicaSet has timed out progressing")

    conditions = _conditions(_available(worker=stalled))

    assert conditions["Degraded"] == ("True", "RolloutStalled")
    assert conditions["Progressing"] == ("False", "RolloutStalled")
    assert conditions["Ready"] == ("False", "RolloutStalled")


def test_merge_stamps_generation_and_time() -> None:
    merged = merge_conditions(derive_conditions(_available()), [], generation=4, now=T0)

    assert [c["type"] for c in merged] == ["Ready", "Progressing", "Degraded", "PolicyCompliant"]
    for condition in merged:
        assert condition["observedGeneration"] == 4
        assert condition["lastTransitionTime"] == "2025-03-01T12:00:00Z"


def test_the_transition_time_moves_only_when_the_status_does() -> None:
    before = merge_conditions(
        derive_conditions(_available(api=_deployment(ready=1))), [], generation=4, now=T0
    )

    after = merge_conditions(derive_conditions(_available()), before, generation=5, now=T1)
    by_type = {c["type"]: c for c in after}

    # Ready and Progressing flipped; Degraded and PolicyCompliant held.
    assert by_type["Ready"]["lastTransitionTime"] == format_time(T1)
    assert by_type["Progressing"]["lastTransitionTime"] == format_time(T1)
    assert by_type["Degraded"]["lastTransitionTime"] == format_time(T0)
    assert by_type["PolicyCompliant"]["lastTransitionTime"] == format_time(T0)
    assert by_type["Degraded"]["observedGeneration"] == 5


def test_a_new_reason_with_the_same_status_keeps_the_time() -> None:
    creating = merge_conditions(derive_conditions(_available(api=None)), [], generation=1, now=T0)
    migrating = _available(migration=MigrationState(MigrationPhase.RUNNING, "m"))

    ready = merge_conditions(derive_conditions(migrating), creating, generation=1, now=T1)[0]

    assert (ready["status"], ready["reason"]) == ("False", "Migrating")
    assert ready["lastTransitionTime"] == format_time(T0)


def test_the_status_dict() -> None:
    spec = parse_spec({**minimal_spec(), "replicas": {"api": 3, "worker": 2}})
    observation = _available(api=_deployment(desired=3, ready=1), worker=_deployment(ready=2))

    status = render_status(
        name="demo",
        namespace="team-a",
        spec=spec,
        observation=observation,
        previous_conditions=[],
        checksum="f" * 64,
        now=T0,
    )

    assert status["observedGeneration"] == 4
    assert status["endpoint"] == "demo-api.team-a.svc:80"
    assert status["replicas"] == {
        "api": {"desired": 3, "ready": 1},
        "worker": {"desired": 2, "ready": 2},
        "summary": "api 1/3, worker 2/2",
    }
    assert status["secretsHash"] == "f" * 64
    assert {c["type"] for c in status["conditions"]} == {
        "Ready",
        "Progressing",
        "Degraded",
        "PolicyCompliant",
    }


def test_without_a_checksum_the_last_one_is_kept() -> None:
    status = render_status(
        name="demo",
        namespace="team-a",
        spec=parse_spec(minimal_spec()),
        observation=_available(api=None, worker=None),
        previous_conditions=[],
        checksum=None,
        now=T0,
    )
    assert "secretsHash" not in status
    assert status["replicas"]["summary"] == "api 0/2, worker 0/2"


def test_pausing_keeps_the_other_conditions_and_adds_paused() -> None:
    before = merge_conditions(derive_conditions(_available()), [], generation=4, now=T0)

    paused = render_paused_conditions(before, generation=5, now=T1)
    by_type = {c["type"]: c for c in paused}

    assert by_type["Paused"]["status"] == "True"
    assert by_type["Paused"]["reason"] == "ReconciliationPaused"
    assert "ingest.example.com/paused" in by_type["Paused"]["message"]
    assert by_type["Paused"]["lastTransitionTime"] == format_time(T1)
    assert [c for c in paused if c["type"] != "Paused"] == before


def test_resuming_drops_paused() -> None:
    before = merge_conditions(derive_conditions(_available()), [], generation=4, now=T0)
    paused = render_paused_conditions(before, generation=4, now=T1)

    resumed = merge_conditions(derive_conditions(_available()), paused, generation=4, now=T1)

    assert "Paused" not in {c["type"] for c in resumed}
    assert resumed == before


def test_pausing_twice_keeps_the_first_pause_time() -> None:
    once = render_paused_conditions([], generation=1, now=T0)
    twice = render_paused_conditions(once, generation=1, now=T1)
    assert twice == once


def test_format_time_converts_to_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert format_time(datetime(2025, 3, 1, 14, 0, 0, tzinfo=plus_two)) == "2025-03-01T12:00:00Z"


def test_a_spec_the_operator_cannot_read_turns_a_ready_service_not_ready_at_its_generation() -> (
    None
):
    before = merge_conditions(derive_conditions(_available()), [], generation=4, now=T0)
    assert {c["type"]: c["status"] for c in before}["Ready"] == "True"

    status = render_invalid_spec_status(
        before, problem="spec.auth.oidc: names must be unique: corp", generation=5, now=T1
    )
    by_type = {c["type"]: c for c in status["conditions"]}

    assert status["observedGeneration"] == 5
    for kind, expected in (("Ready", "False"), ("Progressing", "False"), ("Degraded", "True")):
        assert by_type[kind]["status"] == expected
        assert by_type[kind]["reason"] == "InvalidSpec"
        assert by_type[kind]["observedGeneration"] == 5
        assert "names must be unique: corp" in by_type[kind]["message"]
    assert by_type["Ready"]["lastTransitionTime"] == format_time(T1)
    assert by_type["Degraded"]["lastTransitionTime"] == format_time(T1)
    # What the spec does not decide is left as it was observed.
    assert by_type["PolicyCompliant"] == {c["type"]: c for c in before}["PolicyCompliant"]


def test_a_foreign_object_in_a_childs_place_holds_the_rollout_and_degrades() -> None:
    observation = _available(foreign_children=(("ConfigMap", "shop-config"),))

    conditions = _conditions(observation)

    assert conditions["Ready"] == ("False", "ChildNotOwned")
    assert conditions["Degraded"] == ("True", "ChildNotOwned")
    assert "ConfigMap shop-config" in _messages(observation)["Ready"]

"""The status of an IngestService, from what the operator observed (pure).

Conditions follow metav1.Condition and the API conventions: positive
polarity (Ready, Progressing, Degraded, PolicyCompliant, and Paused while
paused), a CamelCase reason, a message for people, the generation they were
computed for, and a lastTransitionTime that moves only when the status does.
`kubectl wait --for=condition=Ready` is what users script against, so Ready
is True only when the current spec runs and is available.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, Literal

from ingest_operator import naming
from ingest_operator.observing import DeploymentState, MigrationPhase, MigrationState
from ingest_operator.policy import Violation
from ingest_operator.resolving import MissingSecretKey
from ingest_operator.spec import IngestServiceSpec

ConditionStatus = Literal["True", "False", "Unknown"]

# metav1.Condition caps a message at 32768 characters; the CRD enforces it.
MAX_MESSAGE_LENGTH: Final = 32768

_KEPT_RUNNING: Final = "the pods already running are left as they are"

NOT_STARTED: Final = MigrationState(MigrationPhase.PENDING)
INVALID_SPEC_REASON: Final = "InvalidSpec"
CHILD_NOT_OWNED_REASON: Final = "ChildNotOwned"


class ConditionType(StrEnum):
    READY = "Ready"
    PROGRESSING = "Progressing"
    DEGRADED = "Degraded"
    POLICY_COMPLIANT = "PolicyCompliant"
    PAUSED = "Paused"


@dataclass(frozen=True)
class Condition:
    type: ConditionType
    status: ConditionStatus
    reason: str
    message: str


@dataclass(frozen=True)
class Observation:
    """Everything one reconciliation learned about an IngestService and its children."""

    generation: int
    missing_secrets: tuple[MissingSecretKey, ...] = ()
    # None: the policy could not judge the Secrets (see policy.evaluate_policy).
    violations: tuple[Violation, ...] | None = ()
    migration: MigrationState = NOT_STARTED
    # None: the Deployment does not exist (yet).
    api: DeploymentState | None = None
    worker: DeploymentState | None = None
    # (kind, name) of objects in a child's place that this IngestService does not control.
    foreign_children: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class _Rollout:
    """Where the rollout of the current spec stands: the reason Ready and Progressing give."""

    reason: str
    message: str
    progressing: bool = False
    ready: bool = False


def derive_conditions(observation: Observation) -> list[Condition]:
    """Ready, Progressing, Degraded and PolicyCompliant, without timestamps."""
    rollout = _rollout(observation)
    return [
        Condition(ConditionType.READY, _status(rollout.ready), rollout.reason, rollout.message),
        Condition(
            ConditionType.PROGRESSING,
            _status(rollout.progressing),
            rollout.reason,
            rollout.message,
        ),
        _degraded(observation),
        _policy_compliant(observation),
    ]


def merge_conditions(
    conditions: Sequence[Condition],
    previous: Sequence[Mapping[str, Any]],
    *,
    generation: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """The conditions as status dicts, keeping lastTransitionTime where the status held."""
    previous_by_type = {str(condition.get("type")): condition for condition in previous}
    merged = []
    for condition in conditions:
        before = previous_by_type.get(condition.type.value)
        unchanged = before is not None and before.get("status") == condition.status
        transition = (
            str(before["lastTransitionTime"])
            if unchanged and before is not None and before.get("lastTransitionTime")
            else format_time(now)
        )
        merged.append(
            {
                "type": condition.type.value,
                "status": condition.status,
                "reason": condition.reason,
                "message": condition.message[:MAX_MESSAGE_LENGTH],
                "observedGeneration": generation,
                "lastTransitionTime": transition,
            }
        )
    return merged


def render_status(
    *,
    name: str,
    namespace: str,
    spec: IngestServiceSpec,
    observation: Observation,
    previous_conditions: Sequence[Mapping[str, Any]],
    checksum: str | None,
    now: datetime,
) -> dict[str, Any]:
    """The whole status of a reconciled (not paused) IngestService."""
    status: dict[str, Any] = {
        "observedGeneration": observation.generation,
        "conditions": merge_conditions(
            derive_conditions(observation),
            previous_conditions,
            generation=observation.generation,
            now=now,
        ),
        "endpoint": api_endpoint(name, namespace, spec.service.port),
        "replicas": _replicas(spec, observation),
    }
    # Without every referenced Secret there is no checksum; keep the last one.
    if checksum is not None:
        status["secretsHash"] = checksum
    return status


def render_paused_conditions(
    previous: Sequence[Mapping[str, Any]], *, generation: int, now: datetime
) -> list[dict[str, Any]]:
    """The previous conditions as they were, plus Paused=True.

    While paused nothing is observed, so nothing else may change; once
    resumed, render_status leaves Paused out again.
    """
    paused = Condition(
        ConditionType.PAUSED,
        "True",
        "ReconciliationPaused",
        f'the annotation {naming.PAUSED_ANNOTATION}="true" pauses reconciliation; '
        "remove it to resume",
    )
    kept = [dict(c) for c in previous if c.get("type") != ConditionType.PAUSED.value]
    return [*kept, *merge_conditions([paused], previous, generation=generation, now=now)]


def render_invalid_spec_status(
    previous: Sequence[Mapping[str, Any]], *, problem: str, generation: int, now: datetime
) -> dict[str, Any]:
    """What a spec the operator cannot read shows: not Ready, Degraded, at this generation.

    The CRD's schema refuses most such specs at admission; what passes it (an
    operator newer or older than the CRD) must not leave an old Ready=True
    standing for `kubectl wait` to believe.
    """
    message = f"the spec cannot be reconciled: {problem}; {_KEPT_RUNNING}"
    refused = [
        Condition(ConditionType.READY, "False", INVALID_SPEC_REASON, message),
        Condition(ConditionType.PROGRESSING, "False", INVALID_SPEC_REASON, message),
        Condition(ConditionType.DEGRADED, "True", INVALID_SPEC_REASON, message),
    ]
    replaced = {condition.type.value for condition in refused}
    kept = [dict(c) for c in previous if c.get("type") not in replaced]
    return {
        "observedGeneration": generation,
        "conditions": [
            *merge_conditions(refused, previous, generation=generation, now=now),
            *kept,
        ],
    }


def api_endpoint(name: str, namespace: str, port: int) -> str:
    return f"{naming.api_name(name)}.{namespace}.svc:{port}"


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with seconds, as metav1.Time serialises."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _rollout(observation: Observation) -> _Rollout:
    # The causes that stop a rollout come first: nothing new rolls out while one holds.
    if observation.foreign_children:
        return _Rollout(
            CHILD_NOT_OWNED_REASON, f"{_describe_foreign(observation)}; {_KEPT_RUNNING}"
        )
    if observation.missing_secrets:
        return _Rollout("SecretMissing", f"{_describe_missing(observation)}; {_KEPT_RUNNING}")
    if observation.violations is None:
        return _Rollout("PolicyUnknown", f"the policy could not be checked; {_KEPT_RUNNING}")
    if observation.violations:
        return _Rollout(
            "PolicyViolation", f"{_describe_violations(observation.violations)}; {_KEPT_RUNNING}"
        )
    migration = observation.migration
    if migration.phase is MigrationPhase.FAILED:
        return _Rollout("MigrationFailed", f"{_describe_migration(migration)}; {_KEPT_RUNNING}")
    stalled = _stalled(observation)
    if stalled:
        return _Rollout("RolloutStalled", "; ".join(stalled))
    if migration.phase is not MigrationPhase.SUCCEEDED:
        return _Rollout("Migrating", _describe_migration(migration), progressing=True)
    if observation.api is None or observation.worker is None:
        return _Rollout("Creating", "creating the API and worker Deployments", progressing=True)
    message = f"api {observation.api.describe()}; worker {observation.worker.describe()}"
    if not (observation.api.rolled_out and observation.worker.rolled_out):
        return _Rollout("RollingOut", message, progressing=True)
    return _Rollout("Available", message, ready=True)


def _degraded(observation: Observation) -> Condition:
    failures = []
    if observation.foreign_children:
        failures.append((CHILD_NOT_OWNED_REASON, _describe_foreign(observation)))
    if observation.missing_secrets:
        failures.append(("SecretMissing", _describe_missing(observation)))
    if observation.migration.phase is MigrationPhase.FAILED:
        failures.append(("MigrationFailed", _describe_migration(observation.migration)))
    stalled = _stalled(observation)
    if stalled:
        failures.append(("RolloutStalled", "; ".join(stalled)))
    if not failures:
        return Condition(ConditionType.DEGRADED, "False", "AsExpected", "no failure observed")
    reason = failures[0][0]
    return Condition(
        ConditionType.DEGRADED, "True", reason, "; ".join(message for _, message in failures)
    )


def _policy_compliant(observation: Observation) -> Condition:
    violations = observation.violations
    if violations is None:
        return Condition(
            ConditionType.POLICY_COMPLIANT,
            "Unknown",
            "SecretsUnavailable",
            "the production policy judges the referenced Secrets, which could not all be "
            f"read: {_describe_missing(observation)}",
        )
    if violations:
        return Condition(
            ConditionType.POLICY_COMPLIANT,
            "False",
            "PolicyViolation",
            _describe_violations(violations),
        )
    return Condition(
        ConditionType.POLICY_COMPLIANT, "True", "Compliant", "no production-policy violation"
    )


def _replicas(spec: IngestServiceSpec, observation: Observation) -> dict[str, Any]:
    api_ready = observation.api.ready if observation.api is not None else 0
    worker_ready = observation.worker.ready if observation.worker is not None else 0
    return {
        "api": {"desired": spec.replicas.api, "ready": api_ready},
        "worker": {"desired": spec.replicas.worker, "ready": worker_ready},
        "summary": (
            f"api {api_ready}/{spec.replicas.api}, worker {worker_ready}/{spec.replicas.worker}"
        ),
    }


def _stalled(observation: Observation) -> list[str]:
    deployments = (("api", observation.api), ("worker", observation.worker))
    return [
        f"the {label} rollout stalled: {state.stalled_message}"
        for label, state in deployments
        if state is not None and state.stalled_message is not None
    ]


def _describe_missing(observation: Observation) -> str:
    # Two keys of one missing Secret read the same: say it once.
    messages = dict.fromkeys(missing.describe() for missing in observation.missing_secrets)
    return "; ".join(messages) or "unknown"


def _describe_violations(violations: Sequence[Violation]) -> str:
    count = len(violations)
    noun = "violation" if count == 1 else "violations"
    details = "; ".join(violation.describe() for violation in violations)
    return f"{count} production-policy {noun}: {details}"


def _describe_migration(migration: MigrationState) -> str:
    job = f"Job {migration.job_name}" if migration.job_name else "the migration Job"
    if migration.phase is MigrationPhase.FAILED:
        return f"{job} failed ({migration.message})"
    if migration.phase is MigrationPhase.RUNNING:
        return f"{job} is migrating the database schema for the current image and database"
    return "the database schema migration for the current image and database is about to start"


def _status(value: bool) -> ConditionStatus:
    return "True" if value else "False"


def _describe_foreign(observation: Observation) -> str:
    objects = ", ".join(f"{kind} {name}" for kind, name in observation.foreign_children)
    return (
        f"{objects} already exist(s) and belong(s) to no IngestService of this name; "
        "delete or rename them for the operator to create its own"
    )

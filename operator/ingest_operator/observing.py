"""Reads the state of the children the operator watches: Deployments and the migration Job.

Pure: the kube layer hands over the objects as dicts, and this module turns
their status into the few facts the conditions are made of, with the same
rules as `kubectl rollout status` and `kubectl wait --for=condition=complete`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# The reason a Deployment gives when it stopped making progress.
PROGRESS_DEADLINE_EXCEEDED = "ProgressDeadlineExceeded"


@dataclass(frozen=True)
class DeploymentState:
    """How far a Deployment got with its current spec."""

    desired: int
    # Pods of every revision, the old ones still terminating included.
    current: int
    updated: int
    ready: int
    available: int
    # The Deployment controller has seen the latest spec.
    observed_latest_spec: bool
    # Set when the controller gave up (ProgressDeadlineExceeded): its message.
    stalled_message: str | None = None

    @property
    def rolled_out(self) -> bool:
        """Every pod runs the current template and is available, as kubectl rollout status."""
        return (
            self.observed_latest_spec
            and self.updated >= self.desired
            and self.current <= self.updated
            and self.available >= self.updated
        )

    def describe(self) -> str:
        return f"{self.ready}/{self.desired} ready, {self.updated} up to date"


class MigrationPhase(StrEnum):
    PENDING = "Pending"
    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


@dataclass(frozen=True)
class MigrationState:
    phase: MigrationPhase
    job_name: str | None = None
    message: str = ""


def observe_deployment(deployment: Mapping[str, Any]) -> DeploymentState:
    metadata = deployment.get("metadata") or {}
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    return DeploymentState(
        # The API server defaults spec.replicas to 1.
        desired=int(spec.get("replicas", 1)),
        current=int(status.get("replicas") or 0),
        updated=int(status.get("updatedReplicas") or 0),
        ready=int(status.get("readyReplicas") or 0),
        available=int(status.get("availableReplicas") or 0),
        observed_latest_spec=int(status.get("observedGeneration") or 0)
        >= int(metadata.get("generation") or 0),
        stalled_message=_stalled_message(status),
    )


def observe_migration_job(job: Mapping[str, Any] | None) -> MigrationState:
    """The state of the current migration Job (None: not created yet)."""
    if job is None:
        return MigrationState(MigrationPhase.PENDING)
    name = (job.get("metadata") or {}).get("name")
    conditions = _true_conditions((job.get("status") or {}).get("conditions"))
    if "Complete" in conditions:
        return MigrationState(MigrationPhase.SUCCEEDED, name)
    failed = conditions.get("Failed")
    if failed is not None:
        reason = failed.get("reason") or "Failed"
        detail = failed.get("message") or "the migration command failed"
        return MigrationState(MigrationPhase.FAILED, name, f"{reason}: {detail}")
    return MigrationState(MigrationPhase.RUNNING, name)


def _stalled_message(status: Mapping[str, Any]) -> str | None:
    for condition in status.get("conditions") or []:
        if (
            condition.get("type") == "Progressing"
            and condition.get("status") == "False"
            and condition.get("reason") == PROGRESS_DEADLINE_EXCEEDED
        ):
            return str(condition.get("message") or PROGRESS_DEADLINE_EXCEEDED)
    return None


def _true_conditions(conditions: Any) -> dict[str, Mapping[str, Any]]:
    return {
        str(condition.get("type")): condition
        for condition in conditions or []
        if condition.get("status") == "True"
    }

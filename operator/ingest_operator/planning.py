"""What one reconciliation does with the rendered children (pure).

render.py says what should exist; this module says what to send now and
what to remove: the migration Job is created once and never applied (its pod
template is immutable), the Deployments wait until the migration of the
current image and database has succeeded, and owned children that dropped
out of the desired set are pruned. It also reads the IngestService's own
annotations (pause, restart) and spaces out retries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Any, Final

from ingest_operator import naming
from ingest_operator.observing import MigrationPhase, MigrationState

# (kind, name): how a child is told apart from its siblings.
ChildKey = tuple[str, str]

# Kinds whose members can leave the desired set: the generated Secret (once a
# jwtSecretRef is set) and KEDA's (once the workers stop autoscaling),
# PodDisruptionBudgets (below two replicas), the Jobs of earlier images or
# databases, and the autoscalers. Only these are listed for pruning, and only
# when the desired set changed; KEDA's kinds only where KEDA is installed, and
# the PodMonitor (once monitoring is off) where prometheus-operator's CRD is.
PRUNABLE_KINDS: Final = (
    "Secret",
    "PodDisruptionBudget",
    "Job",
    "HorizontalPodAutoscaler",
    "ScaledObject",
    "TriggerAuthentication",
    "PodMonitor",
)
KEDA_KINDS: Final = frozenset({"ScaledObject", "TriggerAuthentication"})
PROMETHEUS_OPERATOR_KINDS: Final = frozenset({"PodMonitor"})
# Kinds of CRDs a cluster may or may not have installed.
OPTIONAL_KINDS: Final = KEDA_KINDS | PROMETHEUS_OPERATOR_KINDS

# What runs the service's image against its database.
WAIT_FOR_MIGRATION: Final = frozenset({"Deployment", "CronJob"})
# What the pods of the Deployments held back by a migration still reference:
# pruned only once the migration let them move on.
REFERENCED_BY_PODS: Final = frozenset({"Secret"})

# Waiting for a migration Job: the Job's own watch event says when it ends;
# this poll, at a steady pace, only covers an event that went missing.
MIGRATION_POLL_SECONDS: Final = 30.0
# Waiting for a person (a missing Secret): back off, but not past five
# minutes; the Secret's own watch event usually comes first.
BACKOFF_BASE_SECONDS: Final = 5.0
BACKOFF_CAP_SECONDS: Final = 300.0
_MAX_DOUBLINGS: Final = 16


class Requeue(StrEnum):
    """Why a reconciliation wants to run again, which decides how soon."""

    POLL = "poll"
    BACKOFF = "backoff"


def child_key(obj: Mapping[str, Any]) -> ChildKey:
    return str(obj["kind"]), str(obj["metadata"]["name"])


def migration_job(desired: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The migration Job of the current image and database among the desired objects."""
    jobs = [obj for obj in desired if obj["kind"] == "Job"]
    if len(jobs) != 1:
        raise ValueError(f"expected exactly one migration Job, rendered {len(jobs)}")
    return jobs[0]


def objects_to_apply(
    desired: Sequence[Mapping[str, Any]], migration: MigrationState
) -> list[Mapping[str, Any]]:
    """What server-side apply sends now: all but the Job, and what runs the new
    image against the database (the Deployments, the purge CronJob) only once
    the current migration Job has succeeded (until then they stay as they are)."""
    migrated = migration.phase is MigrationPhase.SUCCEEDED
    return [
        obj
        for obj in desired
        if obj["kind"] != "Job" and (migrated or obj["kind"] not in WAIT_FOR_MIGRATION)
    ]


def prunable_kinds(migration: MigrationState, *, served: frozenset[str]) -> tuple[str, ...]:
    """The kinds this reconciliation may prune (`served`: the OPTIONAL_KINDS the
    cluster serves).

    While a migration holds the Deployments back, their pods (and any pod
    that restarts meanwhile) still read the old spec's Secrets, such as the
    generated one a new jwtSecretRef replaces: those wait for the migration.
    """
    held = REFERENCED_BY_PODS if migration.phase is not MigrationPhase.SUCCEEDED else frozenset()
    absent = OPTIONAL_KINDS - served
    return tuple(kind for kind in PRUNABLE_KINDS if kind not in held | absent)


def stale_children(
    existing: Iterable[Mapping[str, Any]], desired: Iterable[Mapping[str, Any]], owner_uid: str
) -> list[Mapping[str, Any]]:
    """Children this IngestService controls that are no longer desired.

    Only objects whose controller reference names this very owner (by uid)
    qualify: a label can be copied, an owner uid cannot.
    """
    wanted = {child_key(obj) for obj in desired}
    return [
        obj
        for obj in existing
        if child_key(obj) not in wanted and _controller_uid(obj) == owner_uid
    ]


def is_foreign(existing: Mapping[str, Any] | None, owner_uid: str) -> bool:
    """An object stands where a child should, and this IngestService does not control it.

    Applying over it would adopt it (and the garbage collector would delete it,
    with whatever else it held, along with the IngestService): it is reported
    instead, and left alone.
    """
    return existing is not None and _controller_uid(existing) != owner_uid


def is_autoscaled_deployment(obj: Mapping[str, Any]) -> bool:
    """A rendered Deployment whose replicas an autoscaler sets (render leaves them out)."""
    return obj["kind"] == "Deployment" and "replicas" not in obj["spec"]


def owns_replicas(live: Mapping[str, Any], manager: str) -> bool:
    """Whether `manager`'s server-side applies own the live object's spec.replicas."""
    for entry in (live.get("metadata") or {}).get("managedFields") or []:
        if entry.get("manager") != manager or entry.get("operation") != "Apply":
            continue
        if "f:replicas" in ((entry.get("fieldsV1") or {}).get("f:spec") or {}):
            return True
    return False


def is_paused(resource: Mapping[str, Any]) -> bool:
    return _annotations(resource).get(naming.PAUSED_ANNOTATION, "").strip().lower() == "true"


def restart_requested_at(resource: Mapping[str, Any]) -> str | None:
    """The restart annotation's value: copied to the pod templates, a new value rolls the pods."""
    value = _annotations(resource).get(naming.RESTARTED_AT_ANNOTATION, "").strip()
    return value or None


def next_attempt(previous: tuple[Requeue, int] | None, requeue: Requeue) -> tuple[Requeue, int]:
    """(kind, attempt) of the next requeue of a resource whose last was `previous`.

    Counted per kind of wait: a transient error after minutes of polling a
    migration backs off from the start, not from the fifth doubling.
    """
    if previous is None or previous[0] is not requeue:
        return requeue, 0
    return requeue, previous[1] + 1


def requeue_delay(requeue: Requeue, attempt: int) -> float:
    """Seconds until the next try; `attempt` counts the retries so far (0 first)."""
    if requeue is Requeue.POLL:
        return MIGRATION_POLL_SECONDS
    # Clamped before exponentiation: a float cannot hold 2**1100.
    doublings = min(max(attempt, 0), _MAX_DOUBLINGS)
    return min(BACKOFF_BASE_SECONDS * (1 << doublings), BACKOFF_CAP_SECONDS)


def _controller_uid(obj: Mapping[str, Any]) -> str | None:
    for reference in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if reference.get("controller"):
            return str(reference.get("uid"))
    return None


def _annotations(resource: Mapping[str, Any]) -> Mapping[str, str]:
    annotations: Mapping[str, str] = (resource.get("metadata") or {}).get("annotations") or {}
    return annotations

"""Which status changes deserve a Kubernetes Event (pure).

Events are for people running `kubectl describe`: one when something
changes, not one per reconciliation (an operator that re-posts the same
Warning every few seconds buries what matters, and loads the API server).
So Events are derived from the difference between the conditions before and
after a reconciliation: a new Ready reason, a new problem message, a pause
or a resume, a policy that is satisfied again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from ingest_operator.status import ConditionType

EventType = Literal["Normal", "Warning"]

# Ready reasons that mean something needs a person (status.py names them).
WARNING_REASONS: Final = frozenset(
    {"SecretMissing", "PolicyViolation", "PolicyUnknown", "MigrationFailed", "RolloutStalled"}
)


@dataclass(frozen=True)
class EventNote:
    """An Event to post about the IngestService."""

    type: EventType
    reason: str
    message: str


def transition_events(
    previous: Sequence[Mapping[str, Any]], current: Sequence[Mapping[str, Any]]
) -> list[EventNote]:
    """The Events that the change from `previous` to `current` conditions calls for."""
    before = _by_type(previous)
    after = _by_type(current)
    return [
        *_paused_events(before, after),
        *_ready_events(before, after),
        *_policy_recovered_events(before, after),
    ]


def _paused_events(
    before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> list[EventNote]:
    was_paused = _is_true(before, ConditionType.PAUSED)
    is_paused = _is_true(after, ConditionType.PAUSED)
    if is_paused and not was_paused:
        message = str(after[ConditionType.PAUSED.value].get("message", ""))
        return [EventNote("Normal", "Paused", message)]
    if was_paused and not is_paused and ConditionType.READY.value in after:
        return [EventNote("Normal", "Resumed", "reconciliation resumed")]
    return []


def _ready_events(
    before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> list[EventNote]:
    ready = after.get(ConditionType.READY.value)
    if ready is None or _is_true(after, ConditionType.PAUSED):
        return []
    old = before.get(ConditionType.READY.value) or {}
    reason = str(ready.get("reason", ""))
    message = str(ready.get("message", ""))
    if reason in WARNING_REASONS:
        # A different list of violations or missing Secrets is news too.
        if (old.get("reason"), old.get("message")) == (reason, message):
            return []
        return [EventNote("Warning", reason, message)]
    if old.get("reason") == reason:
        return []
    return [EventNote("Normal", reason, message)]


def _policy_recovered_events(
    before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> list[EventNote]:
    policy = ConditionType.POLICY_COMPLIANT.value
    was_refused = (before.get(policy) or {}).get("status") == "False"
    if was_refused and _is_true(after, ConditionType.POLICY_COMPLIANT):
        return [EventNote("Normal", "PolicyCompliant", "the production policy is satisfied again")]
    return []


def _by_type(conditions: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {str(condition.get("type")): condition for condition in conditions}


def _is_true(conditions: Mapping[str, Mapping[str, Any]], kind: ConditionType) -> bool:
    return (conditions.get(kind.value) or {}).get("status") == "True"

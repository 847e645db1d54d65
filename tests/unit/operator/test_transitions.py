"""Events come from transitions of the conditions, not from every reconciliation."""

from __future__ import annotations

from typing import Any

from ingest_operator.transitions import EventNote, transition_events


def ready(status: str, reason: str, message: str = "details") -> dict[str, Any]:
    return {"type": "Ready", "status": status, "reason": reason, "message": message}


def policy(status: str) -> dict[str, Any]:
    return {"type": "PolicyCompliant", "status": status, "reason": "r", "message": "m"}


PAUSED = {"type": "Paused", "status": "True", "reason": "ReconciliationPaused", "message": "held"}


def test_the_first_reconciliation_announces_where_the_resource_stands() -> None:
    assert transition_events([], [ready("False", "Migrating", "Job x runs")]) == [
        EventNote("Normal", "Migrating", "Job x runs")
    ]


def test_the_same_conditions_again_post_nothing() -> None:
    conditions = [ready("False", "RollingOut", "api 1/2 ready"), policy("True")]

    assert transition_events(conditions, conditions) == []


def test_a_normal_reason_is_announced_once_even_as_its_message_changes() -> None:
    before = [ready("False", "RollingOut", "api 1/2 ready")]

    assert transition_events(before, [ready("False", "RollingOut", "api 2/2 ready")]) == []


def test_a_problem_is_a_warning_and_a_different_problem_message_is_news() -> None:
    one = [ready("False", "PolicyViolation", "1 production-policy violation: a")]
    two = [ready("False", "PolicyViolation", "2 production-policy violations: a; b")]

    assert transition_events([], one) == [
        EventNote("Warning", "PolicyViolation", "1 production-policy violation: a")
    ]
    assert transition_events(one, one) == []
    assert transition_events(one, two) == [
        EventNote("Warning", "PolicyViolation", "2 production-policy violations: a; b")
    ]


def test_a_policy_satisfied_again_is_announced() -> None:
    before = [ready("False", "PolicyViolation"), policy("False")]
    after = [ready("False", "Migrating"), policy("True")]

    assert transition_events(before, after) == [
        EventNote("Normal", "Migrating", "details"),
        EventNote("Normal", "PolicyCompliant", "the production policy is satisfied again"),
    ]


def test_pausing_and_resuming_are_announced_and_nothing_else_while_paused() -> None:
    running = [ready("True", "Available")]
    paused = [ready("True", "Available"), PAUSED]

    assert transition_events(running, paused) == [EventNote("Normal", "Paused", "held")]
    assert transition_events(paused, paused) == []
    assert transition_events(paused, [ready("False", "RollingOut")]) == [
        EventNote("Normal", "Resumed", "reconciliation resumed"),
        EventNote("Normal", "RollingOut", "details"),
    ]

"""The job state machine: which moves are legal, in one table (pure).

    created ──complete──> queued ──worker──> processing ──> completed
       │                   │  ^                  │  │
       │                   │  └──release/retry───┘  └──> failed ──retry──> queued
       └──cancel──> cancelled <──cancel── (queued, processing)

Every transition of a job goes through `check_transition`; the service
applies it with a conditional UPDATE, so two racing movers cannot both win.
"""

from __future__ import annotations

from enum import StrEnum

from ingest_api.core.errors import IllegalTransition


class JobState(StrEnum):
    CREATED = "created"
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ALLOWED_TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.CREATED: frozenset({JobState.QUEUED, JobState.CANCELLED}),
    JobState.QUEUED: frozenset({JobState.PROCESSING, JobState.CANCELLED, JobState.FAILED}),
    # PROCESSING -> QUEUED: a worker shutting down hands the job back.
    JobState.PROCESSING: frozenset(
        {JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED, JobState.QUEUED}
    ),
    JobState.FAILED: frozenset({JobState.QUEUED}),
    JobState.COMPLETED: frozenset(),
    JobState.CANCELLED: frozenset(),
}

TERMINAL_STATES = frozenset(s for s, targets in ALLOWED_TRANSITIONS.items() if not targets)


def can_transition(current: JobState, target: JobState) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def check_transition(current: JobState, target: JobState) -> None:
    """Raise IllegalTransition unless `current -> target` is a legal move."""
    if not can_transition(current, target):
        allowed = ", ".join(sorted(ALLOWED_TRANSITIONS[current])) or "none (terminal)"
        raise IllegalTransition(
            f"a job in state '{current}' cannot move to '{target}' (allowed: {allowed})"
        )

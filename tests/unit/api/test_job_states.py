"""The job state machine."""

from __future__ import annotations

import pytest

from ingest_api.core.errors import IllegalTransition
from ingest_api.jobs.states import ALLOWED_TRANSITIONS, TERMINAL_STATES, JobState, check_transition

LEGAL = {
    ("created", "queued"), ("created", "cancelled"),
    ("queued", "processing"), ("queued", "cancelled"), ("queued", "failed"),
    ("processing", "completed"), ("processing", "failed"), ("processing", "cancelled"),
    ("processing", "queued"),
    ("failed", "queued"),
}  # fmt: skip


@pytest.mark.parametrize("current", list(JobState))
@pytest.mark.parametrize("target", list(JobState))
def test_exactly_the_legal_moves_pass(current: JobState, target: JobState) -> None:
    if (current.value, target.value) in LEGAL:
        check_transition(current, target)
    else:
        with pytest.raises(IllegalTransition, match=f"cannot move to '{target}'"):
            check_transition(current, target)


def test_terminal_states_have_no_way_out() -> None:
    assert {JobState.COMPLETED, JobState.CANCELLED} == TERMINAL_STATES
    assert set(ALLOWED_TRANSITIONS) == set(JobState)

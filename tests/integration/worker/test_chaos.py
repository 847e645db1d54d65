"""A short chaos soak (`tests/support/chaos`): about 60 jobs, a tenth of them
hostile files, through two APIs and three workers while each fault is
injected once. Nothing is lost, nothing completes twice, and every outcome
is the one a fault-free run of the same file gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest_api.core.config import Settings
from tests.support.chaos import FAULTS, run_soak, soak_files
from tests.support.soak_checks import check_soak

pytestmark = pytest.mark.fault


@pytest.mark.timeout(900)
def test_every_job_ends_once_and_as_without_faults(settings: Settings, tmp_path: Path) -> None:
    run = run_soak(settings, tmp_path, soak_files(60), list(FAULTS), fault_every=5.0)
    report = check_soak(settings, run)
    print("\n".join(report.lines()))

    assert run.unfinished == []
    assert report.jobs == 60
    assert (report.lost, report.completed_twice, report.differing) == ([], [], [])
    assert report.unknown_jobs == 0
    assert [r.fault for r in report.recoveries] == list(FAULTS)
    # Jobs waited in the stream Redis lost; the recovery queued them again.
    [wipe] = [r for r in report.recoveries if r.fault == "redis-wipe"]
    assert wipe.taken_over > 0
    # Jobs completed again after every fault, the last one included.
    assert report.longest_recovery() < 120

"""Which child events reconcile: not the operator's own echoes, not status it never reads."""

from __future__ import annotations

import copy
from typing import Any

from ingest_operator.child_events import OwnWrites, calls_for_reconcile, fingerprint


def child(kind: str, version: str = "10", generation: int = 1, **status: Any) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {
            "name": "shop-api",
            "namespace": "team-a",
            "resourceVersion": version,
            "generation": generation,
            "labels": {"app.kubernetes.io/instance": "shop"},
        },
        "status": status,
    }


def test_the_echo_of_the_operators_own_write_is_recognised() -> None:
    writes = OwnWrites()
    written = child("ConfigMap", version="10")
    writes.record(written)

    assert writes.is_echo(written)
    assert not writes.is_echo(child("ConfigMap", version="11"))
    writes.forget(written)
    assert not writes.is_echo(written)


def test_a_pod_disruption_budgets_status_is_not_a_change() -> None:
    before = child("PodDisruptionBudget", version="10", currentHealthy=0)
    after = child("PodDisruptionBudget", version="11", currentHealthy=2)

    assert fingerprint(before) == fingerprint(after)
    assert fingerprint(before) != fingerprint(child("PodDisruptionBudget", generation=2))


def test_a_running_jobs_counts_are_not_a_change_but_its_end_is() -> None:
    started = child("Job", active=1)
    counted = child("Job", version="11", active=1, ready=0)
    complete = child(
        "Job", version="12", conditions=[{"type": "Complete", "status": "True", "reason": "Done"}]
    )

    assert fingerprint(started) == fingerprint(counted)
    assert fingerprint(counted) != fingerprint(complete)


def test_a_deployments_readiness_is_a_change() -> None:
    rolling = child("Deployment", observedGeneration=1, replicas=2, readyReplicas=0)
    ready = child("Deployment", version="11", observedGeneration=1, replicas=2, readyReplicas=2)

    assert fingerprint(rolling) != fingerprint(ready)


def test_a_hand_edited_label_is_a_change() -> None:
    original = child("Deployment")
    edited = copy.deepcopy(original)
    edited["metadata"]["labels"]["app.kubernetes.io/instance"] = "someone-else"

    assert fingerprint(original) != fingerprint(edited)


def test_any_new_version_of_a_kind_without_generation_is_a_change() -> None:
    assert fingerprint(child("ConfigMap", version="10")) != fingerprint(
        child("ConfigMap", version="11")
    )


def test_an_event_reconciles_when_the_child_changed_or_went() -> None:
    first, second = fingerprint(child("ConfigMap", "10")), fingerprint(child("ConfigMap", "11"))

    assert calls_for_reconcile("ADDED", None, first)
    assert calls_for_reconcile("MODIFIED", first, second)
    assert not calls_for_reconcile("MODIFIED", first, first)
    assert calls_for_reconcile("DELETED", first, first)


def test_the_listing_at_start_up_is_left_to_the_resume_handlers() -> None:
    assert not calls_for_reconcile(None, None, fingerprint(child("ConfigMap", "10")))


def test_a_relisting_after_a_broken_watch_shows_what_changed_meanwhile() -> None:
    # 410 Gone after an API server outage: kopf lists again, every object as type None.
    seen, edited = fingerprint(child("ConfigMap", "10")), fingerprint(child("ConfigMap", "17"))

    assert calls_for_reconcile(None, seen, edited)
    assert not calls_for_reconcile(None, seen, seen)

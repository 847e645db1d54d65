"""Which watch events of a child call for reconciling its IngestService.

Every write to a child comes back as a watch event: the operator's own
applies, and controllers updating status fields the operator never reads
(a PodDisruptionBudget's counts, a running Job's active pods). Reconciling
on each would triple the work for nothing. Two filters, both cheap:

- OwnWrites remembers the resourceVersion each of the operator's own writes
  produced; the event that merely echoes it is skipped. Anyone else's edit
  has another resourceVersion, so drift is still restored.
- fingerprint() reduces a child to what the reconciler reads from it; an
  event whose fingerprint equals the previous one for that child is skipped.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping
from typing import Any

from ingest_operator.observing import observe_deployment, observe_migration_job

ChildRef = tuple[str, str, str]  # (kind, namespace, name)


class OwnWrites:
    """The resourceVersion each child had right after the operator last wrote it."""

    def __init__(self) -> None:
        self._versions: dict[ChildRef, str] = {}
        self._lock = threading.Lock()

    def record(self, obj: Mapping[str, Any]) -> None:
        ref, version = _ref(obj), _version(obj)
        if version:
            with self._lock:
                self._versions[ref] = version

    def is_echo(self, obj: Mapping[str, Any]) -> bool:
        """True when `obj` is exactly what the operator last wrote."""
        with self._lock:
            return self._versions.get(_ref(obj)) == _version(obj)

    def forget(self, obj: Mapping[str, Any]) -> None:
        with self._lock:
            self._versions.pop(_ref(obj), None)


def calls_for_reconcile(
    event_type: str | None, previous: Hashable | None, current: Hashable
) -> bool:
    """Whether a watch event of a child (or a watched Secret) can mean drift.

    `previous` is the fingerprint of the object's last event, None if none.
    Type None is a listing: at start-up, when the resume handlers reconcile
    everything anyway (nothing seen before), or after a watch expired (410
    Gone, an API server down for long): then a new fingerprint is a change
    made while the operator could not see it.
    """
    if event_type == "DELETED":
        return True
    if event_type is None and previous is None:
        return False
    return previous != current


def fingerprint(obj: Mapping[str, Any]) -> Hashable:
    """What the reconciler depends on in a child: equal fingerprints, nothing to do.

    The spec is covered by metadata.generation for the kinds that have one,
    labels and annotations by themselves (a hand-edited label is drift too);
    of the status, only what observing.py reads: a Deployment's rollout
    figures and a Job's phase. The status of a PodDisruptionBudget or a
    HorizontalPodAutoscaler (its metrics move all the time) is never read.
    ConfigMaps, Services and Secrets have no generation, so any new
    resourceVersion counts.
    """
    kind = obj.get("kind")
    metadata = obj.get("metadata") or {}
    if kind not in ("Deployment", "Job", "PodDisruptionBudget", "HorizontalPodAutoscaler"):
        return (metadata.get("resourceVersion"),)
    identity = (
        metadata.get("generation"),
        _items(metadata.get("labels")),
        _items(metadata.get("annotations")),
    )
    if kind == "Deployment":
        return (*identity, observe_deployment(obj))
    if kind == "Job":
        return (*identity, observe_migration_job(obj).phase)
    return identity


def _items(mapping: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((mapping or {}).items()))


def _ref(obj: Mapping[str, Any]) -> ChildRef:
    metadata = obj.get("metadata") or {}
    return str(obj.get("kind")), str(metadata.get("namespace")), str(metadata.get("name"))


def _version(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")

"""How a reconciliation writes an IngestService's children, and what it remembers of them.

reconciling.Reconciler decides what to write; ChildWriter writes it, through
kube.KubeClient, with the care real clusters need:

- an object already standing where a child should be, that this IngestService
  does not control, is reported and never adopted (each child is read once
  per process before its first apply);
- a Deployment whose replicas pass to an autoscaler keeps its current
  replicas through the handover;
- children that dropped out of the desired set are pruned, and only when that
  set changed;
- every write is remembered (child_events.OwnWrites), so its watch event is
  known as an echo.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

from ingest_operator import kinds, kube, naming
from ingest_operator.child_events import OwnWrites
from ingest_operator.kube import KubeClient
from ingest_operator.planning import (
    KEDA_KINDS,
    PROMETHEUS_OPERATOR_KINDS,
    ChildKey,
    child_key,
    is_autoscaled_deployment,
    is_foreign,
    owns_replicas,
    stale_children,
)
from ingest_operator.render import Owner

logger = logging.getLogger(__name__)

# KEDA and prometheus-operator are installed or removed rarely; asking on
# every reconciliation would cost a request each.
DISCOVERY_SECONDS: Final = 60.0
# Holds a Deployment's replicas while they pass from the operator to an autoscaler.
REPLICAS_HANDOVER_MANAGER: Final = "ingest-operator-handover"

OwnerKey = tuple[str, str]  # (namespace, name)


class ChildWriter:
    def __init__(self, kube_client: KubeClient, own_writes: OwnWrites) -> None:
        self._kube = kube_client
        self.own_writes = own_writes
        # Owner -> its uid, the desired set and the kinds last pruned against.
        # Stale children only appear when those change, so an unchanged set
        # skips the lists. Empty after a restart: each owner's first
        # reconciliation prunes.
        self._pruned: dict[OwnerKey, tuple[str, frozenset[ChildKey], tuple[str, ...]]] = {}
        # Owner -> its uid and the children known to be its own or absent.
        self._verified: dict[OwnerKey, tuple[str, frozenset[ChildKey]]] = {}
        # Optional kind -> when it was last looked up, and whether it was served.
        self._served: dict[str, tuple[float, bool]] = {}

    def foreign_children(
        self, owner: Owner, desired: Sequence[Mapping[str, Any]]
    ) -> tuple[ChildKey, ...]:
        """Children whose place an object this owner does not control already takes."""
        uid, verified = self._verified.get((owner.namespace, owner.name), ("", frozenset()))
        if uid != owner.uid:
            verified = frozenset()
        foreign = []
        for obj in desired:
            key = child_key(obj)
            if key in verified:
                continue
            existing = self._kube.read(kinds.KINDS[key[0]], owner.namespace, key[1])
            if is_foreign(existing, owner.uid):
                foreign.append(key)
            else:
                verified |= {key}
        self._verified[owner.namespace, owner.name] = (owner.uid, verified)
        return tuple(foreign)

    def create_once(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        return self._written(self._kube.create_once(obj))

    def apply_all(self, objects: Sequence[Mapping[str, Any]]) -> dict[ChildKey, dict[str, Any]]:
        """Server-side apply each, in order; what the API server stored, by child."""
        applied = {}
        for obj in objects:
            if is_autoscaled_deployment(obj):
                self._hand_over_replicas(obj)
            applied[child_key(obj)] = self._written(self._kube.apply(obj))
        return applied

    def prune(
        self, owner: Owner, desired: Sequence[Mapping[str, Any]], kind_names: tuple[str, ...]
    ) -> None:
        """Delete the owner's children of `kind_names` that are not in `desired`."""
        wanted = frozenset(child_key(obj) for obj in desired)
        if self._pruned.get((owner.namespace, owner.name)) == (owner.uid, wanted, kind_names):
            return
        selector = naming.instance_selector(owner.name)
        for kind_name in kind_names:
            existing = self._kube.list_labelled(kinds.KINDS[kind_name], owner.namespace, selector)
            for stale in stale_children(existing, desired, owner.uid):
                logger.info(
                    "pruning %s %s/%s: no longer desired",
                    kind_name,
                    owner.namespace,
                    stale["metadata"]["name"],
                )
                self._kube.delete(stale)
        self._pruned[owner.namespace, owner.name] = (owner.uid, wanted, kind_names)

    def serves(self, kind: kinds.Kind) -> bool:
        """Whether the cluster serves `kind` (its CRD is installed); asked again
        once a minute at most."""
        now = time.monotonic()
        seen = self._served.get(kind.kind)
        if seen is None or now - seen[0] > DISCOVERY_SECONDS:
            seen = self._served[kind.kind] = (now, self._kube.serves(kind))
        return seen[1]

    def keda_served(self) -> bool:
        return self.serves(kinds.SCALED_OBJECT)

    def pod_monitor_served(self) -> bool:
        return self.serves(kinds.POD_MONITOR)

    def served_optional_kinds(self) -> frozenset[str]:
        """The OPTIONAL_KINDS the cluster serves (KEDA's two come together)."""
        served = KEDA_KINDS if self.keda_served() else frozenset()
        return served | (PROMETHEUS_OPERATOR_KINDS if self.pod_monitor_served() else frozenset())

    def forget(self, namespace: str, name: str) -> None:
        """The IngestService is gone: drop what was kept about its children."""
        self._pruned.pop((namespace, name), None)
        self._verified.pop((namespace, name), None)

    def _hand_over_replicas(self, deployment: Mapping[str, Any]) -> None:
        """Before the operator's apply leaves replicas out, keep their current value.

        Left out of an apply, a field the operator alone owned would be
        removed, and the Deployment would drop to one replica until the
        autoscaler's next turn: a field manager of its own holds the current
        value instead, until the autoscaler writes its own.
        """
        metadata = deployment["metadata"]
        live = self._kube.read(kinds.DEPLOYMENT, metadata["namespace"], metadata["name"])
        if live is None or not owns_replicas(live, kube.FIELD_MANAGER):
            return
        self._kube.apply(
            {
                "apiVersion": deployment["apiVersion"],
                "kind": deployment["kind"],
                "metadata": {"name": metadata["name"], "namespace": metadata["namespace"]},
                "spec": {"replicas": live["spec"]["replicas"]},
            },
            field_manager=REPLICAS_HANDOVER_MANAGER,
        )

    def _written(self, stored: dict[str, Any]) -> dict[str, Any]:
        """Remember a child as the operator left it, so its watch event is known as an echo."""
        self.own_writes.record(stored)
        return stored

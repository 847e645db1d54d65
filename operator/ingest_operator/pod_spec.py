"""spec.pod: where and as whom the service's pods run, parsed (pure).

Scheduling structures (tolerations, affinity, topology spread) pass through
to the pod templates as the user wrote them: the CRD checks their outline,
the API server the rest when it stores the Deployments. pods.py applies them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingest_operator.spec_fields import Fields


@dataclass(frozen=True)
class PodSettings:
    node_selector: tuple[tuple[str, str], ...] = ()
    tolerations: tuple[dict[str, Any], ...] = ()
    affinity: dict[str, Any] | None = None
    # None: the operator's default spread (pods.default_topology_spread).
    topology_spread_constraints: tuple[dict[str, Any], ...] | None = None
    priority_class_name: str | None = None
    image_pull_secrets: tuple[str, ...] = ()
    service_account_name: str | None = None
    labels: tuple[tuple[str, str], ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()


def parse_pod_settings(pod: Fields) -> PodSettings:
    spread = pod.raw_objects("topologySpreadConstraints")
    # Set, even to [], the user's constraints replace the default spread.
    custom_spread = pod.has("topologySpreadConstraints")
    return PodSettings(
        node_selector=pod.string_map("nodeSelector"),
        tolerations=pod.raw_objects("tolerations"),
        affinity=pod.raw_object("affinity") or None,
        topology_spread_constraints=spread if custom_spread else None,
        priority_class_name=pod.optional_string("priorityClassName"),
        image_pull_secrets=tuple(
            secret.string("name") for secret in pod.objects("imagePullSecrets")
        ),
        service_account_name=pod.optional_string("serviceAccountName"),
        labels=pod.string_map("labels"),
        annotations=pod.string_map("annotations"),
    )

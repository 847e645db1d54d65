"""The Kubernetes Events the operator records, as objects (pure).

transitions.py decides when an Event is due; this module shapes it, and
kube.py posts it. An Event's name is derived from what it says, as
client-go's correlator does, so the same Warning posted twice updates one
object (its count) instead of piling up new ones.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

from ingest_operator import naming

REPORTING_COMPONENT: Final = f"{naming.GROUP}/ingest-operator"
# The API server refuses longer notes on events.k8s.io; core/v1 readers cut there too.
MAX_MESSAGE_LENGTH: Final = 1024
_DIGEST_LENGTH: Final = 16


def event_name(regarding: Mapping[str, Any], *, type: str, reason: str, message: str) -> str:
    """`<object>.<hash of what the Event says>`: equal Events share one name."""
    metadata = regarding["metadata"]
    said = "\0".join((metadata["uid"], type, reason, message))
    return f"{metadata['name']}.{hashlib.sha256(said.encode()).hexdigest()[:_DIGEST_LENGTH]}"


def render_event(
    regarding: Mapping[str, Any],
    *,
    type: str,
    reason: str,
    message: str,
    now: str,
    reporting_instance: str,
) -> dict[str, Any]:
    """A core/v1 Event about `regarding`, seen for the first time at `now`."""
    metadata = regarding["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": event_name(regarding, type=type, reason=reason, message=message),
            "namespace": metadata["namespace"],
        },
        "involvedObject": {
            "apiVersion": regarding["apiVersion"],
            "kind": regarding["kind"],
            "name": metadata["name"],
            "namespace": metadata["namespace"],
            "uid": metadata["uid"],
        },
        "type": type,
        "reason": reason,
        "message": message[:MAX_MESSAGE_LENGTH],
        "count": 1,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "source": {"component": naming.MANAGED_BY},
        "reportingComponent": REPORTING_COMPONENT,
        "reportingInstance": reporting_instance,
    }

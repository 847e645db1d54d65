"""spec.monitoring, parsed (pure): whether a PodMonitor scrapes the service, how often.

The defaults equal the CRD's (a unit test checks them). monitoring.py renders
the PodMonitor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ingest_operator.spec_fields import Fields


@dataclass(frozen=True)
class Monitoring:
    enabled: bool = False
    interval: str = "30s"
    labels: tuple[tuple[str, str], ...] = ()


DEFAULT_MONITORING: Final = Monitoring()


def parse_monitoring(monitoring: Fields) -> Monitoring:
    return Monitoring(
        enabled=monitoring.boolean("enabled", DEFAULT_MONITORING.enabled),
        interval=monitoring.string("interval", DEFAULT_MONITORING.interval),
        labels=monitoring.string_map("labels"),
    )

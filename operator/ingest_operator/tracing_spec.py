"""spec.tracing, parsed (pure): whether the API and the worker send traces, where.

The defaults equal the CRD's (a unit test checks them). service_env.py turns
it into the standard OTEL_* settings the service's OpenTelemetry SDK reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ingest_operator.spec_fields import Fields, InvalidSpecError


@dataclass(frozen=True)
class Tracing:
    enabled: bool = False
    # An OTLP/HTTP endpoint (a collector), e.g. http://otel-collector.observability:4318.
    endpoint: str | None = None
    # The share of traces started here that are kept; a caller's sampled flag wins.
    # One in ten: all of them costs the API about 1.4x the CPU per request
    # (bench/tracing_overhead.py).
    sampling_ratio: str = "0.1"


DEFAULT_TRACING: Final = Tracing()


def parse_tracing(tracing: Fields) -> Tracing:
    parsed = Tracing(
        enabled=tracing.boolean("enabled", DEFAULT_TRACING.enabled),
        endpoint=tracing.optional_string("endpoint"),
        sampling_ratio=tracing.string("samplingRatio", DEFAULT_TRACING.sampling_ratio),
    )
    if parsed.enabled and not parsed.endpoint:
        raise InvalidSpecError("spec.tracing.endpoint", "is required when tracing is enabled")
    try:
        ratio = float(parsed.sampling_ratio)
    except ValueError:
        ratio = -1.0
    if not 0.0 <= ratio <= 1.0:
        raise InvalidSpecError("spec.tracing.samplingRatio", "must be a number from 0 to 1")
    return parsed

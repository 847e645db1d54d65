"""spec.autoscaling, parsed (pure): which Deployments follow the load, within which bounds.

The defaults equal the CRD's (a unit test checks them). autoscaling.py
renders the autoscalers.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest_operator.spec_fields import Fields


@dataclass(frozen=True)
class Autoscaler:
    enabled: bool
    min_replicas: int
    max_replicas: int
    target_cpu_percent: int


@dataclass(frozen=True)
class WorkerAutoscaler(Autoscaler):
    # With KEDA: jobs waiting in the stream per worker replica.
    jobs_per_replica: int = 5


@dataclass(frozen=True)
class Autoscaling:
    api: Autoscaler
    worker: WorkerAutoscaler


DEFAULT_MAX_REPLICAS = 10
DEFAULT_TARGET_CPU_PERCENT = 70
DEFAULT_AUTOSCALING = Autoscaling(
    api=Autoscaler(False, 2, DEFAULT_MAX_REPLICAS, DEFAULT_TARGET_CPU_PERCENT),
    worker=WorkerAutoscaler(False, 1, DEFAULT_MAX_REPLICAS, DEFAULT_TARGET_CPU_PERCENT, 5),
)
MAX_REPLICAS = 100


def parse_autoscaling(autoscaling: Fields) -> Autoscaling:
    api = autoscaling.object_or_empty("api")
    worker = autoscaling.object_or_empty("worker")
    default = DEFAULT_AUTOSCALING
    return Autoscaling(
        api=Autoscaler(*_bounds(api, default.api)),
        worker=WorkerAutoscaler(
            *_bounds(worker, default.worker),
            jobs_per_replica=worker.integer(
                "jobsPerReplica", default.worker.jobs_per_replica, minimum=1, maximum=10_000
            ),
        ),
    )


def _bounds(fields: Fields, default: Autoscaler) -> tuple[bool, int, int, int]:
    return (
        fields.boolean("enabled", default.enabled),
        fields.integer("minReplicas", default.min_replicas, minimum=1, maximum=MAX_REPLICAS),
        fields.integer("maxReplicas", default.max_replicas, minimum=1, maximum=MAX_REPLICAS),
        fields.integer(
            "targetCPUUtilizationPercentage", default.target_cpu_percent, minimum=1, maximum=100
        ),
    )

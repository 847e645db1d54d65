"""The kinds the operator reads or writes, and where each lives in the API (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ingest_operator import naming


@dataclass(frozen=True)
class Kind:
    """A namespaced kind the operator reads or writes, and where it lives in the API."""

    api_version: str
    kind: str
    plural: str

    def collection_path(self, namespace: str) -> str:
        root = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        return f"{root}/namespaces/{namespace}/{self.plural}"

    def object_path(self, namespace: str, name: str) -> str:
        return f"{self.collection_path(namespace)}/{name}"


SECRET: Final = Kind("v1", "Secret", "secrets")
CONFIG_MAP: Final = Kind("v1", "ConfigMap", "configmaps")
SERVICE: Final = Kind("v1", "Service", "services")
EVENT: Final = Kind("v1", "Event", "events")
DEPLOYMENT: Final = Kind("apps/v1", "Deployment", "deployments")
JOB: Final = Kind("batch/v1", "Job", "jobs")
CRON_JOB: Final = Kind("batch/v1", "CronJob", "cronjobs")
POD_DISRUPTION_BUDGET: Final = Kind("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets")
HORIZONTAL_POD_AUTOSCALER: Final = Kind(
    "autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers"
)
# KEDA's, when it is installed (has_api tells).
SCALED_OBJECT: Final = Kind("keda.sh/v1alpha1", "ScaledObject", "scaledobjects")
TRIGGER_AUTHENTICATION: Final = Kind(
    "keda.sh/v1alpha1", "TriggerAuthentication", "triggerauthentications"
)
# prometheus-operator's, when it is installed (has_api tells).
POD_MONITOR: Final = Kind("monitoring.coreos.com/v1", "PodMonitor", "podmonitors")
INGEST_SERVICE: Final = Kind(naming.API_VERSION, naming.KIND, "ingestservices")

KINDS: Final[Mapping[str, Kind]] = {
    kind.kind: kind
    for kind in (
        SECRET,
        CONFIG_MAP,
        SERVICE,
        EVENT,
        DEPLOYMENT,
        JOB,
        CRON_JOB,
        POD_DISRUPTION_BUDGET,
        HORIZONTAL_POD_AUTOSCALER,
        SCALED_OBJECT,
        TRIGGER_AUTHENTICATION,
        POD_MONITOR,
    )
}

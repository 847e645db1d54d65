"""Pod templates of the API, the worker and the migration Job (pure).

Each pod runs one of the image's console scripts with the environment of
service_env: settings from the ConfigMap, credentials through secretKeyRef
(never a value), under the restricted Pod Security Standard. render.py wraps
these templates into Deployments and the Job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from ingest_operator import naming, service_env
from ingest_operator.naming import Component
from ingest_operator.pod_spec import PodSettings
from ingest_operator.spec import ContainerResources, IngestServiceSpec, SecretName

API_COMMAND: Final = "ingest-api"
WORKER_COMMAND: Final = "ingest-worker"
MIGRATION_COMMAND: Final = "ingest-migrate"
PURGE_COMMAND: Final = "ingest-admin"
PURGE_ARGS: Final = ("purge",)

# The image's user; any non-zero id works, a fixed one keeps file ownership stable.
RUN_AS_USER: Final = 10001

HTTP_PORT_NAME: Final = "http"
METRICS_PORT_NAME: Final = "metrics"
LIVENESS_PATH: Final = "/healthz"
READINESS_PATH: Final = "/readyz"

# The root file system is read-only; Python, uvicorn and the worker's file
# handling still need a scratch directory.
TMP_VOLUME: Final = "tmp"
TMP_PATH: Final = "/tmp"  # noqa: S108 - an emptyDir private to the pod
KUBERNETES_IDENTITY_VOLUME: Final = "kubernetes-identity"
# Every namespace has it (the root CA controller publishes it).
CLUSTER_CA_CONFIG_MAP: Final = "kube-root-ca.crt"
# Without spec.pod.topologySpreadConstraints, the replicas of each Deployment
# prefer distinct nodes and zones: one node or zone lost takes only its share.
DEFAULT_SPREAD_KEYS: Final = ("kubernetes.io/hostname", "topology.kubernetes.io/zone")


@dataclass(frozen=True)
class PodInputs:
    """What a pod template needs besides the spec."""

    name: str
    checksum: str
    restarted_at: str | None = None


def render_api_pod_template(spec: IngestServiceSpec, inputs: PodInputs) -> dict[str, Any]:
    container = {
        **_container("api", API_COMMAND, spec, spec.resources.api),
        # /metrics on a port of its own, which the Service does not expose.
        "ports": [
            {"name": HTTP_PORT_NAME, "containerPort": service_env.API_PORT},
            {"name": METRICS_PORT_NAME, "containerPort": service_env.METRICS_PORT_NUMBER},
        ],
        "env": [
            *_env(spec, inputs.name, include_api_only=True),
            *_service_name_env(spec, naming.api_name(inputs.name)),
            {"name": service_env.PORT, "value": str(service_env.API_PORT)},
            {"name": service_env.METRICS_PORT, "value": str(service_env.METRICS_PORT_NUMBER)},
        ],
        # A slow first start (imports, database check) is not a dead process.
        "startupProbe": _http_probe(LIVENESS_PATH, HTTP_PORT_NAME, period=2, failures=30),
        "livenessProbe": _http_probe(LIVENESS_PATH, HTTP_PORT_NAME, period=10, failures=3),
        "readinessProbe": _http_probe(READINESS_PATH, HTTP_PORT_NAME, period=5, failures=3),
    }
    template = _pod_template(spec, inputs, Component.API, container, rolled_by_checksum=True)
    if spec.auth.workload_identity is not None:
        _mount_kubernetes_identity(template)
    return template


def _mount_kubernetes_identity(template: dict[str, Any]) -> None:
    """A ServiceAccount token (for the API server's own audience, refreshed
    by the kubelet) and the cluster's CA, so the API can read the keys that
    sign workloads' tokens. Only the API pod, only with workload identity:
    no other pod holds a token."""
    template["spec"]["volumes"].append(
        {
            "name": KUBERNETES_IDENTITY_VOLUME,
            "projected": {
                "sources": [
                    {
                        "serviceAccountToken": {
                            "path": service_env.KUBERNETES_TOKEN_FILE,
                            "expirationSeconds": 3600,
                        }
                    },
                    {
                        "configMap": {
                            "name": CLUSTER_CA_CONFIG_MAP,
                            "items": [{"key": "ca.crt", "path": service_env.KUBERNETES_CA_FILE}],
                        }
                    },
                ]
            },
        }
    )
    template["spec"]["containers"][0]["volumeMounts"].append(
        {
            "name": KUBERNETES_IDENTITY_VOLUME,
            "mountPath": service_env.KUBERNETES_IDENTITY_PATH,
            "readOnly": True,
        }
    )


def render_worker_pod_template(spec: IngestServiceSpec, inputs: PodInputs) -> dict[str, Any]:
    container = {
        **_container("worker", WORKER_COMMAND, spec, spec.resources.worker),
        "ports": [{"name": METRICS_PORT_NAME, "containerPort": service_env.WORKER_METRICS_PORT}],
        "env": [
            *_env(spec, inputs.name, include_api_only=False),
            *_service_name_env(spec, naming.worker_name(inputs.name)),
            {"name": service_env.METRICS_PORT, "value": str(service_env.WORKER_METRICS_PORT)},
        ],
        "livenessProbe": _http_probe(LIVENESS_PATH, METRICS_PORT_NAME, period=10, failures=3),
        "readinessProbe": _http_probe(LIVENESS_PATH, METRICS_PORT_NAME, period=10, failures=3),
    }
    return _pod_template(spec, inputs, Component.WORKER, container, rolled_by_checksum=True)


def render_migration_pod_template(spec: IngestServiceSpec, inputs: PodInputs) -> dict[str, Any]:
    container = {
        **_container("migrate", MIGRATION_COMMAND, spec, spec.resources.api),
        "env": _env(spec, inputs.name, include_api_only=False),
    }
    # A Job's pod template is immutable, and one Job runs per image and
    # database (its name says which): no checksum, or a rotated Secret would
    # make the Job impossible to apply.
    template = _pod_template(spec, inputs, Component.MIGRATION, container, rolled_by_checksum=False)
    template["spec"]["restartPolicy"] = "Never"
    return template


def render_purge_pod_template(spec: IngestServiceSpec, inputs: PodInputs) -> dict[str, Any]:
    container = {
        **_container("purge", PURGE_COMMAND, spec, spec.resources.api),
        "args": list(PURGE_ARGS),
        "env": _env(spec, inputs.name, include_api_only=False),
    }
    # Each run reads the settings afresh: nothing to roll.
    template = _pod_template(spec, inputs, Component.PURGE, container, rolled_by_checksum=False)
    template["spec"]["restartPolicy"] = "Never"
    return template


def _pod_template(
    spec: IngestServiceSpec,
    inputs: PodInputs,
    component: Component,
    container: dict[str, Any],
    *,
    rolled_by_checksum: bool,
) -> dict[str, Any]:
    pod = spec.pod
    # The user's labels and annotations first: the operator's, which select
    # and roll the pods, win over one of the same key.
    metadata: dict[str, Any] = {
        "labels": {**dict(pod.labels), **naming.standard_labels(inputs.name, component, spec.image)}
    }
    annotations = dict(pod.annotations)
    if rolled_by_checksum:
        annotations[naming.CHECKSUM_ANNOTATION] = inputs.checksum
        if inputs.restarted_at is not None:
            annotations[naming.RESTARTED_AT_ANNOTATION] = inputs.restarted_at
    if annotations:
        metadata["annotations"] = annotations
    template = {
        "metadata": metadata,
        "spec": {
            # The service never acts on the Kubernetes API (workload identity
            # reads the API server's keys with a token of its own volume).
            "automountServiceAccountToken": False,
            # Service links would inject <SERVICE>_PORT-style variables that
            # could shadow the service's own settings.
            "enableServiceLinks": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": RUN_AS_USER,
                "runAsGroup": RUN_AS_USER,
                "fsGroup": RUN_AS_USER,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "containers": [container],
            "volumes": [{"name": TMP_VOLUME, "emptyDir": {}}],
            **_scheduling(spec.pod),
        },
    }
    if component in (Component.API, Component.WORKER):
        template["spec"]["topologySpreadConstraints"] = topology_spread(
            spec, inputs.name, component
        )
    return template


def topology_spread(
    spec: IngestServiceSpec, name: str, component: Component
) -> list[dict[str, Any]]:
    """How a Deployment's pods spread: the user's constraints, else softly over nodes and zones.

    A constraint without a labelSelector counts this Deployment's pods.
    """
    selector = {"matchLabels": naming.selector_labels(name, component)}
    constraints = spec.pod.topology_spread_constraints
    if constraints is None:
        constraints = tuple(
            {"maxSkew": 1, "topologyKey": key, "whenUnsatisfiable": "ScheduleAnyway"}
            for key in DEFAULT_SPREAD_KEYS
        )
    return [{"labelSelector": selector, **constraint} for constraint in constraints]


def _scheduling(pod: PodSettings) -> dict[str, Any]:
    """The pod spec's fields that spec.pod sets; unset ones are left out."""
    fields: dict[str, Any] = {
        "nodeSelector": dict(pod.node_selector),
        "tolerations": list(pod.tolerations),
        "affinity": pod.affinity,
        "priorityClassName": pod.priority_class_name,
        "imagePullSecrets": [{"name": secret} for secret in pod.image_pull_secrets],
        "serviceAccountName": pod.service_account_name,
    }
    return {key: value for key, value in fields.items() if value}


def _container(
    name: str, command: str, spec: IngestServiceSpec, resources: ContainerResources
) -> dict[str, Any]:
    return {
        "name": name,
        "image": spec.image,
        "imagePullPolicy": spec.image_pull_policy.value,
        "command": [command],
        "resources": {
            "requests": {"cpu": resources.requests.cpu, "memory": resources.requests.memory},
            "limits": {"cpu": resources.limits.cpu, "memory": resources.limits.memory},
        },
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_USER,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [{"name": TMP_VOLUME, "mountPath": TMP_PATH}],
    }


def _env(spec: IngestServiceSpec, name: str, *, include_api_only: bool) -> list[dict[str, Any]]:
    # The worker and the migration read JWT_SECRET_KEY too: they load the same
    # settings class, which refuses to start in production without a strong key.
    config_map = naming.config_map_name(name)
    from_config = [
        {"name": key, "valueFrom": {"configMapKeyRef": {"name": config_map, "key": key}}}
        for key in service_env.render_config_data(spec)
        if include_api_only or key not in service_env.API_ONLY_ENV_VARS
    ]
    generated_secret = SecretName(naming.generated_secret_name(name))
    from_secrets = [
        {
            "name": ref.env_var,
            "valueFrom": {"secretKeyRef": {"name": ref.secret, "key": ref.key}},
        }
        for ref in service_env.secret_env_vars(spec, generated_secret)
        if include_api_only or ref.env_var not in service_env.API_ONLY_ENV_VARS
    ]
    return [*from_config, *from_secrets]


def _service_name_env(spec: IngestServiceSpec, service_name: str) -> list[dict[str, Any]]:
    """Traces name the Deployment that sent them (only while tracing is on)."""
    if not spec.tracing.enabled:
        return []
    return [{"name": service_env.OTEL_SERVICE_NAME, "value": service_name}]


def _http_probe(path: str, port: str, *, period: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": port},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }

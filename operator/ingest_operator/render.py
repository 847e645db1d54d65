"""The desired children of an IngestService, as plain dicts (pure).

Rendering is a function of the spec and a few resolved inputs, with no I/O,
so a unit test can check every object, and the apply step can send the
result as it is with server-side apply. What the operator must read first
(the owner's uid, the generated JWT key, the Secrets behind the checksum and
the database digest) arrives in RenderInputs.

The result is the whole desired set: the apply step deletes owned children
that are no longer in it (a PodDisruptionBudget after scaling below two
replicas, the generated Secret once a jwtSecretRef is set, the migration
Jobs of earlier images or databases). The migration Job's pod template is
immutable once created, so the apply step creates that Job when absent and
never updates it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from ingest_operator import autoscaling, monitoring, naming, pods, service_env
from ingest_operator.autoscaling import RedisConnection
from ingest_operator.naming import Component
from ingest_operator.pods import PodInputs
from ingest_operator.spec import IngestServiceSpec

# A PodDisruptionBudget with one replica would block every node drain.
MIN_REPLICAS_FOR_PDB: Final = 2

# A migration that hangs must end as a failure the status can report,
# rather than as a rollout that waits forever.
MIGRATION_DEADLINE_SECONDS: Final = 1800
MIGRATION_BACKOFF_LIMIT: Final = 2
# A purge is idempotent and the next run picks up where one stopped: never
# two at once, no retries within a run, a run cut off well within a day.
PURGE_DEADLINE_SECONDS: Final = 3600
PURGE_HISTORY: Final = 3


@dataclass(frozen=True)
class Owner:
    """The IngestService the children belong to."""

    name: str
    namespace: str
    uid: str


@dataclass(frozen=True)
class RenderInputs:
    owner: Owner
    # compute_checksum(config data, referenced Secret data).
    checksum: str
    # compute_database_digest(the resolved database settings): names the
    # migration Job together with the image.
    database_digest: str
    # The random key of the checksum and the digest, kept in the generated Secret.
    checksum_key: str
    # The JWT key the operator generated and keeps for good (pods of an earlier
    # spec may still read it); required without a jwtSecretRef.
    generated_jwt_secret: str | None = None
    # The restart annotation's value, copied to pod templates to roll the pods.
    restarted_at: str | None = None
    # Set when KEDA is installed and the workers autoscale: REDIS_URL as KEDA
    # reads it. None: the workers' autoscaler is a HorizontalPodAutoscaler.
    keda_redis: RedisConnection | None = None
    # Whether the cluster serves prometheus-operator's PodMonitor: only then
    # is the one spec.monitoring asks for rendered.
    pod_monitor_served: bool = False


class MissingRenderInputError(ValueError):
    """The caller did not resolve an input the spec needs (a bug in the caller)."""


def compute_checksum(
    key: str, config_data: Mapping[str, str], secret_data: Mapping[str, Mapping[str, str]]
) -> str:
    """An HMAC-SHA256, under the IngestService's checksum key, of the ConfigMap's
    data and the referenced Secrets' keys: it changes when they change, and
    tells nothing of them to whoever reads it."""
    return _hmac_of(key, {"config": config_data, "secrets": secret_data})


def compute_database_digest(key: str, database_settings: Mapping[str, str]) -> str:
    """An HMAC-SHA256, under the checksum key, of the settings that choose the database.

    The migration Job's name covers it, so pointing the service at another
    database (another Secret, or new content in the same one) runs the
    migration again. The URL holds a password, and Job names are seen by
    anyone who may list Jobs: keyed, the digest permits no offline guessing.
    A rotated password is a new URL too, and so migrates again: the
    migration is idempotent, and it proves the new URL works before any pod
    switches to it.
    """
    return _hmac_of(key, {"database": database_settings})


def render_desired_objects(spec: IngestServiceSpec, inputs: RenderInputs) -> list[dict[str, Any]]:
    """Every child, in the order they can be applied."""
    objects: list[dict[str, Any]] = [render_generated_secret(spec, inputs)]
    objects += [
        render_config_map(spec, inputs),
        render_migration_job(spec, inputs),
        render_api_deployment(spec, inputs),
        render_api_service(spec, inputs),
        render_worker_deployment(spec, inputs),
        render_purge_cron_job(spec, inputs),
    ]
    for component in (Component.API, Component.WORKER):
        if fewest_replicas(spec, component) >= MIN_REPLICAS_FOR_PDB:
            objects.append(render_pod_disruption_budget(spec, inputs, component))
    return objects + render_autoscalers(spec, inputs) + render_pod_monitor(spec, inputs)


def fewest_replicas(spec: IngestServiceSpec, component: Component) -> int:
    """The replicas a Deployment keeps at least: its autoscaler's minimum, or spec.replicas."""
    api = component is Component.API
    autoscaler = spec.autoscaling.api if api else spec.autoscaling.worker
    if autoscaler.enabled:
        return autoscaler.min_replicas
    return spec.replicas.api if api else spec.replicas.worker


def render_autoscalers(spec: IngestServiceSpec, inputs: RenderInputs) -> list[dict[str, Any]]:
    """The HorizontalPodAutoscalers, or KEDA's objects for the workers, the spec asks for."""
    api, worker = naming.api_name(inputs.owner.name), naming.worker_name(inputs.owner.name)
    scaling = spec.autoscaling
    objects = []
    if scaling.api.enabled:
        metadata = _metadata(spec, inputs, api, Component.API)
        objects.append(_hpa(metadata, autoscaling.hpa_spec(api, scaling.api)))
    if scaling.worker.enabled and inputs.keda_redis is None:
        metadata = _metadata(spec, inputs, worker, Component.WORKER)
        objects.append(_hpa(metadata, autoscaling.hpa_spec(worker, scaling.worker)))
    elif scaling.worker.enabled and inputs.keda_redis is not None:
        redis = inputs.keda_redis
        secret = naming.keda_secret_name(inputs.owner.name)
        objects += [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": _metadata(spec, inputs, secret, Component.AUTOSCALING),
                "type": "Opaque",
                "data": {
                    key: base64.b64encode(value.encode()).decode()
                    for key, value in redis.secret_data().items()
                },
            },
            {
                "apiVersion": autoscaling.KEDA_API_VERSION,
                "kind": "TriggerAuthentication",
                "metadata": _metadata(spec, inputs, worker, Component.WORKER),
                "spec": autoscaling.trigger_authentication_spec(secret, redis),
            },
            {
                "apiVersion": autoscaling.KEDA_API_VERSION,
                "kind": "ScaledObject",
                "metadata": _metadata(spec, inputs, worker, Component.WORKER),
                "spec": autoscaling.scaled_object_spec(worker, scaling.worker, redis, worker),
            },
        ]
    return objects


def render_pod_monitor(spec: IngestServiceSpec, inputs: RenderInputs) -> list[dict[str, Any]]:
    """The PodMonitor spec.monitoring asks for, where the cluster serves its kind."""
    if not (spec.monitoring.enabled and inputs.pod_monitor_served):
        return []
    name = inputs.owner.name
    metadata = _metadata(spec, inputs, name, Component.MONITORING)
    # The user's labels select the monitor; ours identify it and win.
    metadata["labels"] = {**dict(spec.monitoring.labels), **metadata["labels"]}
    return [
        {
            "apiVersion": monitoring.POD_MONITOR_API_VERSION,
            "kind": "PodMonitor",
            "metadata": metadata,
            "spec": monitoring.pod_monitor_spec(name, spec.monitoring),
        }
    ]


def _hpa(metadata: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": autoscaling.HPA_API_VERSION,
        "kind": "HorizontalPodAutoscaler",
        "metadata": metadata,
        "spec": spec,
    }


def render_generated_secret(spec: IngestServiceSpec, inputs: RenderInputs) -> dict[str, Any]:
    """The operator's own Secret: the checksum key, and the JWT key it generated."""
    if spec.auth.jwt_secret_ref is None and inputs.generated_jwt_secret is None:
        raise MissingRenderInputError(
            "the spec has no auth.jwtSecretRef, so the generated JWT key is required"
        )
    data = {service_env.CHECKSUM_KEY: inputs.checksum_key}
    if inputs.generated_jwt_secret is not None:
        data[service_env.GENERATED_JWT_SECRET_KEY] = inputs.generated_jwt_secret
    metadata = _metadata(
        spec, inputs, naming.generated_secret_name(inputs.owner.name), Component.GENERATED_SECRET
    )
    # Watched like a referenced Secret that asks for it: a deleted or edited
    # generated Secret is restored at once.
    metadata["labels"][naming.RELOAD_LABEL] = naming.RELOAD_LABEL_VALUE
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": "Opaque",
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in data.items()},
    }


def render_config_map(spec: IngestServiceSpec, inputs: RenderInputs) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _metadata(
            spec, inputs, naming.config_map_name(inputs.owner.name), Component.CONFIG
        ),
        "data": service_env.render_config_data(spec),
    }


def render_api_deployment(spec: IngestServiceSpec, inputs: RenderInputs) -> dict[str, Any]:
    name = inputs.owner.name
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(spec, inputs, naming.api_name(name), Component.API),
        "spec": {
            **_replicas(spec.replicas.api, autoscaled=spec.autoscaling.api.enabled),
            "selector": {"matchLabels": naming.selector_labels(name, Component.API)},
            # Serving capacity never drops during a rollout: new pods come first.
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "template": pods.render_api_pod_template(spec, _pod_inputs(inputs)),
        },
    }


def render_worker_deployment(spec: IngestServiceSpec, inputs: RenderInputs) -> dict[str, Any]:
    name = inputs.owner.name
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(spec, inputs, naming.worker_name(name), Component.WORKER),
        "spec": {
            **_replicas(spec.replicas.worker, autoscaled=spec.autoscaling.worker.enabled),
            "selector": {"matchLabels": naming.selector_labels(name, Component.WORKER)},
            "template": pods.render_worker_pod_template(spec, _pod_inputs(inputs)),
        },
    }


def render_api_service(spec: IngestServiceSpec, inputs: RenderInputs) -> dict[str, Any]:
    name = inputs.owner.name
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(spec, inputs, naming.api_name(name), Component.API),
        "spec": {
            "type": spec.service.type.value,
            "selector": naming.selector_labels(name, Component.API),
            "ports": [
                {
                    "name": pods.HTTP_PORT_NAME,
                    "port": spec.service.port,
                    "targetPort": pods.HTTP_PORT_NAME,
                    "protocol": "TCP",
                }
            ],
        },
    }


def render_pod_disruption_budget(
    spec: IngestServiceSpec, inputs: RenderInputs, component: Component
) -> dict[str, Any]:
    name = inputs.owner.name
    child_name = naming.api_name(name) if component is Component.API else naming.worker_name(name)
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(spec, inputs, child_name, component),
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": naming.selector_labels(name, component)},
            # A crash-looping pod protects nothing; let a drain evict it.
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
        },
    }


def render_migration_job(spec: IngestServiceSpec, inputs: RenderInputs) -> dict[str, Any]:
    job_name = naming.migration_job_name(inputs.owner.name, spec.image, inputs.database_digest)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _metadata(spec, inputs, job_name, Component.MIGRATION),
        "spec": {
            "backoffLimit": MIGRATION_BACKOFF_LIMIT,
            "activeDeadlineSeconds": MIGRATION_DEADLINE_SECONDS,
            "template": pods.render_migration_pod_template(spec, _pod_inputs(inputs)),
        },
    }


def render_purge_cron_job(spec: IngestServiceSpec, inputs: RenderInputs) -> dict[str, Any]:
    """`ingest-admin purge` on the retention schedule (`spec.retention`)."""
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _metadata(spec, inputs, naming.purge_name(inputs.owner.name), Component.PURGE),
        "spec": {
            "schedule": spec.retention.purge_schedule,
            "timeZone": "Etc/UTC",
            "concurrencyPolicy": "Forbid",
            "successfulJobsHistoryLimit": PURGE_HISTORY,
            "failedJobsHistoryLimit": PURGE_HISTORY,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 0,
                    "activeDeadlineSeconds": PURGE_DEADLINE_SECONDS,
                    "template": pods.render_purge_pod_template(spec, _pod_inputs(inputs)),
                }
            },
        },
    }


def owner_reference(owner: Owner) -> dict[str, Any]:
    """Makes the IngestService the controller of a child, so deleting it collects them."""
    return {
        "apiVersion": naming.API_VERSION,
        "kind": naming.KIND,
        "name": owner.name,
        "uid": owner.uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _metadata(
    spec: IngestServiceSpec, inputs: RenderInputs, name: str, component: Component
) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": inputs.owner.namespace,
        "labels": naming.standard_labels(inputs.owner.name, component, spec.image),
        "ownerReferences": [owner_reference(inputs.owner)],
    }


def _replicas(replicas: int, *, autoscaled: bool) -> dict[str, int]:
    # Left out of the applied configuration, the field belongs to the
    # autoscaler that writes it: the operator neither sets nor restores it.
    return {} if autoscaled else {"replicas": replicas}


def _hmac_of(key: str, payload: Mapping[str, Any]) -> str:
    """Over canonical JSON (sorted keys, fixed separators): the same data, whatever
    the dict order, gives the same digest, so unchanged inputs never roll or migrate."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()


def _pod_inputs(inputs: RenderInputs) -> PodInputs:
    return PodInputs(
        name=inputs.owner.name, checksum=inputs.checksum, restarted_at=inputs.restarted_at
    )

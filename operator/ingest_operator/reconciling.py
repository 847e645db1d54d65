"""One reconciliation of one IngestService: read, decide, apply, report.

This module sequences the steps and leaves every decision to the pure
modules (spec, resolving, policy, render, planning, observing, status,
transitions); it reaches the API server only through kube.KubeClient. It is
level-based: each run reads the current state and converges on the desired
one, so a rerun after a crash, a restart or a duplicate event changes
nothing.

The order matters. Referenced Secrets are read and judged before anything
is sent, so a missing Secret or a policy violation rolls out nothing new;
the migration Job of the current image and database is created (once)
before the Deployments, which keep their old pods until it has succeeded.
"""

from __future__ import annotations

import logging
import secrets as token_source
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from ingest_operator import kinds, metrics, naming
from ingest_operator.autoscaling import InvalidRedisUrlError, RedisConnection, parse_redis_url
from ingest_operator.child_events import OwnWrites
from ingest_operator.children import ChildWriter
from ingest_operator.kube import KubeClient, KubeError
from ingest_operator.observing import (
    DeploymentState,
    MigrationPhase,
    observe_deployment,
    observe_migration_job,
)
from ingest_operator.planning import (
    ChildKey,
    Requeue,
    is_paused,
    migration_job,
    objects_to_apply,
    prunable_kinds,
    restart_requested_at,
)
from ingest_operator.policy import Violation, evaluate_policy
from ingest_operator.render import (
    Owner,
    RenderInputs,
    compute_checksum,
    compute_database_digest,
    render_desired_objects,
)
from ingest_operator.resolving import SecretResolution, referenced_secret_names, resolve_secrets
from ingest_operator.service_env import (
    CHECKSUM_KEY,
    GENERATED_JWT_SECRET_KEY,
    render_config_data,
)
from ingest_operator.spec import IngestServiceSpec, InvalidSpecError, SecretName, parse_spec
from ingest_operator.status import (
    ConditionType,
    Observation,
    render_invalid_spec_status,
    render_paused_conditions,
    render_status,
)
from ingest_operator.transitions import transition_events

logger = logging.getLogger(__name__)

# 48 random bytes: well above the policy's 32-byte minimum for HS256 keys.
GENERATED_KEY_BYTES: Final = 48

_DEGRADED_REASONS: Final = frozenset({"MigrationFailed", "RolloutStalled", "ChildNotOwned"})
MONITORING_UNAVAILABLE: Final = "MonitoringUnavailable"
_NO_POD_MONITOR_CRD: Final = (
    "spec.monitoring.enabled asks for a PodMonitor, but this cluster does not serve "
    "monitoring.coreos.com/v1 PodMonitors (install prometheus-operator's CRDs); "
    "the service runs without one"
)


class Result(StrEnum):
    """How a reconciliation ended: the `result` label of the reconcile metric."""

    READY = "ready"
    PROGRESSING = "progressing"
    # Nothing new rolled out: a Secret is missing or the policy refused it.
    HELD = "held"
    DEGRADED = "degraded"
    PAUSED = "paused"
    GONE = "gone"


@dataclass(frozen=True)
class Outcome:
    result: Result
    reason: str
    message: str = ""
    # Set when the handler should run again later (kopf.TemporaryError).
    requeue: Requeue | None = None


@dataclass(frozen=True)
class _ReadSecrets:
    # Secret name -> key -> value, the generated Secret included when the pods read it.
    data: dict[str, dict[str, str]]
    # What the generated Secret holds (or will, made now): its keys are kept for good.
    generated_jwt_key: str | None
    checksum_key: str


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _new_key() -> str:
    """A random key: a JWT signing key, or the key of the checksums."""
    return token_source.token_urlsafe(GENERATED_KEY_BYTES)


class Reconciler:
    """Brings one IngestService's children and status in line with its spec."""

    def __init__(
        self,
        kube_client: KubeClient,
        *,
        own_writes: OwnWrites | None = None,
        now: Callable[[], datetime] = _utcnow,
        new_key: Callable[[], str] = _new_key,
    ) -> None:
        self._kube = kube_client
        self._children = ChildWriter(kube_client, own_writes or OwnWrites())
        self._now = now
        self._new_key = new_key
        # The IngestServices (namespace, name, uid) told by an Event that their
        # PodMonitor cannot be written: once each, not on every reconciliation.
        self._told_monitoring_unavailable: set[tuple[str, str, str]] = set()

    @property
    def own_writes(self) -> OwnWrites:
        return self._children.own_writes

    def forget(self, namespace: str, name: str) -> None:
        """The IngestService is gone: drop what was kept about it and its children."""
        self._children.forget(namespace, name)
        self._told_monitoring_unavailable = {
            told for told in self._told_monitoring_unavailable if told[:2] != (namespace, name)
        }

    def reconcile(self, namespace: str, name: str) -> Outcome:
        resource = self._kube.read(kinds.INGEST_SERVICE, namespace, name)
        # Being deleted: the garbage collector removes the children; recreating
        # them now would only race it.
        if resource is None or resource["metadata"].get("deletionTimestamp"):
            return Outcome(Result.GONE, "Gone")
        if is_paused(resource):
            return self._pause(resource)
        try:
            spec = parse_spec(resource.get("spec") or {})
        except InvalidSpecError as error:
            self._refuse(resource, error)
            raise
        owner = Owner(name=name, namespace=namespace, uid=resource["metadata"]["uid"])
        read = self._read_secrets(spec, owner)
        resolution = resolve_secrets(spec, read.data, _generated_secret(owner))
        violations = evaluate_policy(spec, resolution.values)
        if resolution.missing or violations is None or violations:
            return self._hold(resource, spec, resolution, violations)
        return self._roll_out(resource, spec, owner, read, resolution)

    # --- the three paths ----------------------------------------------------------

    def _pause(self, resource: Mapping[str, Any]) -> Outcome:
        conditions = render_paused_conditions(
            _previous_conditions(resource), generation=_generation(resource), now=self._now()
        )
        self._report(resource, {"conditions": conditions})
        return Outcome(Result.PAUSED, "ReconciliationPaused")

    def _refuse(self, resource: Mapping[str, Any], error: InvalidSpecError) -> None:
        """Show the refusal in the conditions; nothing is rolled out or removed."""
        status = render_invalid_spec_status(
            _previous_conditions(resource),
            problem=str(error),
            generation=_generation(resource),
            now=self._now(),
        )
        self._report(resource, status)

    def _hold(
        self,
        resource: Mapping[str, Any],
        spec: IngestServiceSpec,
        resolution: SecretResolution,
        violations: list[Violation] | None,
        *,
        foreign: tuple[ChildKey, ...] = (),
    ) -> Outcome:
        """Report why nothing is rolled out; the children stay exactly as they are."""
        owner_name = resource["metadata"]["name"]
        namespace = resource["metadata"]["namespace"]
        observation = Observation(
            generation=_generation(resource),
            missing_secrets=resolution.missing,
            violations=None if violations is None else tuple(violations),
            foreign_children=foreign,
            api=self._observe(namespace, naming.api_name(owner_name)),
            worker=self._observe(namespace, naming.worker_name(owner_name)),
        )
        # No checksum: status.secretsHash keeps describing what the pods run.
        status = self._render_status(resource, spec, observation, checksum=None)
        self._report(resource, status)
        # A missing Secret, or a foreign object, can go at any time and send no
        # event the operator watches for.
        requeue = Requeue.BACKOFF if resolution.missing or foreign else None
        return _outcome(status, Result.HELD, requeue)

    def _roll_out(
        self,
        resource: Mapping[str, Any],
        spec: IngestServiceSpec,
        owner: Owner,
        read: _ReadSecrets,
        resolution: SecretResolution,
    ) -> Outcome:
        checksum = compute_checksum(
            read.checksum_key, render_config_data(spec), resolution.checksum_data
        )
        inputs = RenderInputs(
            owner=owner,
            checksum=checksum,
            checksum_key=read.checksum_key,
            generated_jwt_secret=read.generated_jwt_key,
            restarted_at=restart_requested_at(resource),
            database_digest=compute_database_digest(
                read.checksum_key, resolution.database_settings
            ),
            keda_redis=self._keda_redis(spec, resolution),
            pod_monitor_served=self._pod_monitor_served(resource, spec),
        )
        desired = render_desired_objects(spec, inputs)
        foreign = self._children.foreign_children(owner, desired)
        if foreign:
            return self._hold(resource, spec, resolution, [], foreign=foreign)
        migration = observe_migration_job(self._children.create_once(migration_job(desired)))
        applied = self._children.apply_all(objects_to_apply(desired, migration))
        prunable = prunable_kinds(migration, served=self._children.served_optional_kinds())
        self._children.prune(owner, desired, prunable)
        migrated = migration.phase is MigrationPhase.SUCCEEDED
        observation = Observation(
            generation=_generation(resource),
            violations=(),
            migration=migration,
            api=self._observe(owner.namespace, naming.api_name(owner.name), applied),
            worker=self._observe(owner.namespace, naming.worker_name(owner.name), applied),
        )
        status = self._render_status(
            resource, spec, observation, checksum=checksum if migrated else None
        )
        self._report(resource, status)
        waiting = migration.phase in (MigrationPhase.PENDING, MigrationPhase.RUNNING)
        return _outcome(status, Result.PROGRESSING, Requeue.POLL if waiting else None)

    # --- the steps ----------------------------------------------------------------

    def _read_secrets(self, spec: IngestServiceSpec, owner: Owner) -> _ReadSecrets:
        generated = _generated_secret(owner)
        uses_generated = spec.auth.jwt_secret_ref is None
        data: dict[str, dict[str, str]] = {}
        for secret_name in sorted(referenced_secret_names(spec, generated)):
            if secret_name == generated:
                continue
            found = self._kube.read_secret_data(owner.namespace, secret_name)
            if found is not None:
                data[secret_name] = found
        # Made once, then kept: a new checksum key would roll every pod and
        # migrate again; a new JWT key would log everyone out.
        kept = self._kube.read_secret_data(owner.namespace, generated) or {}
        checksum_key = kept.get(CHECKSUM_KEY) or self._new_key()
        jwt_key = kept.get(GENERATED_JWT_SECRET_KEY)
        if uses_generated:
            jwt_key = jwt_key or self._new_key()
            data[generated] = {GENERATED_JWT_SECRET_KEY: jwt_key}
        return _ReadSecrets(data, jwt_key, checksum_key)

    def _pod_monitor_served(self, resource: Mapping[str, Any], spec: IngestServiceSpec) -> bool:
        """Whether the PodMonitor spec.monitoring asks for can be written; when
        the cluster lacks its CRD, a Warning Event says so."""
        if not spec.monitoring.enabled:
            return False
        metadata = resource["metadata"]
        told = (metadata["namespace"], metadata["name"], metadata["uid"])
        if self._children.pod_monitor_served():
            self._told_monitoring_unavailable.discard(told)
            return True
        if told not in self._told_monitoring_unavailable:
            self._told_monitoring_unavailable.add(told)
            self._post_event(resource, "Warning", MONITORING_UNAVAILABLE, _NO_POD_MONITOR_CRD)
        return False

    def _keda_redis(
        self, spec: IngestServiceSpec, resolution: SecretResolution
    ) -> RedisConnection | None:
        """REDIS_URL as KEDA reads it, when the workers autoscale and KEDA is installed."""
        if not spec.autoscaling.worker.enabled or not self._children.keda_served():
            return None
        try:
            return parse_redis_url(resolution.redis_url or "")
        except InvalidRedisUrlError as error:
            logger.warning("workers autoscale on CPU instead of KEDA: %s", error)
            return None

    def _observe(
        self,
        namespace: str,
        name: str,
        applied: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
    ) -> DeploymentState | None:
        # An apply's response is the stored object, status included: no second read.
        deployment = (applied or {}).get(("Deployment", name)) or self._kube.read(
            kinds.DEPLOYMENT, namespace, name
        )
        return None if deployment is None else observe_deployment(deployment)

    def _render_status(
        self,
        resource: Mapping[str, Any],
        spec: IngestServiceSpec,
        observation: Observation,
        *,
        checksum: str | None,
    ) -> dict[str, Any]:
        return render_status(
            name=resource["metadata"]["name"],
            namespace=resource["metadata"]["namespace"],
            spec=spec,
            observation=observation,
            previous_conditions=_previous_conditions(resource),
            checksum=checksum,
            now=self._now(),
        )

    def _report(self, resource: Mapping[str, Any], status: Mapping[str, Any]) -> None:
        """Write the status if it changed, and post an Event per transition."""
        previous = resource.get("status") or {}
        metadata = resource["metadata"]
        if any(previous.get(key) != value for key, value in status.items()):
            self._kube.patch_status(metadata["namespace"], metadata["name"], status)
        metrics.record_conditions(metadata["namespace"], metadata["name"], status["conditions"])
        for note in transition_events(_previous_conditions(resource), status["conditions"]):
            self._post_event(resource, note.type, note.reason, note.message)

    def _post_event(
        self, resource: Mapping[str, Any], type: str, reason: str, message: str
    ) -> None:
        try:
            self._kube.post_event(resource, type=type, reason=reason, message=message)
        except KubeError as error:
            # An Event is a courtesy; the status already says it all.
            logger.warning("could not post the %s Event: %s", reason, error)


def _outcome(status: Mapping[str, Any], default: Result, requeue: Requeue | None) -> Outcome:
    ready = next(
        condition
        for condition in status["conditions"]
        if condition["type"] == ConditionType.READY.value
    )
    reason = str(ready["reason"])
    if ready["status"] == "True":
        result = Result.READY
    elif reason in _DEGRADED_REASONS:
        result = Result.DEGRADED
    else:
        result = default
    return Outcome(result, reason, str(ready["message"]), requeue)


def _generated_secret(owner: Owner) -> SecretName:
    return SecretName(naming.generated_secret_name(owner.name))


def _generation(resource: Mapping[str, Any]) -> int:
    return int(resource["metadata"].get("generation") or 0)


def _previous_conditions(resource: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    conditions: list[Mapping[str, Any]] = (resource.get("status") or {}).get("conditions") or []
    return conditions

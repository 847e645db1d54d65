"""kopf wiring: which events reconcile which IngestService, and kopf's settings.

A few lines per handler; runtime.Runtime and reconciling.Reconciler do the
work. An IngestService is reconciled when it changes (create, update, and
resume when the operator starts), when one of its children changes or
disappears (drift is restored), when a Secret it references changes
(rotation rolls the pods), and periodically (the runtime's resync) in case
an event was missed. kopf timers are not used for the latter: they put a
finalizer on every resource, and a finalizer makes `kubectl delete` hang
whenever the operator is down; the garbage collector needs none.

Only the IngestService's own handler runs a reconciliation in kopf's thread
pool and waits for it. The event handlers are coroutines that look at the
event and submit work, so kopf's event intake never queues behind a
reconciliation (under load it did, and events arrived seconds late).
"""

from __future__ import annotations

import logging
from typing import Any, Final

import kopf

from ingest_operator import naming
from ingest_operator.child_events import calls_for_reconcile, fingerprint
from ingest_operator.events import REPORTING_COMPONENT
from ingest_operator.kube import KubeError, NamespaceTerminating
from ingest_operator.planning import Requeue, requeue_delay
from ingest_operator.resolving import referenced_secret_names
from ingest_operator.runtime import Runtime
from ingest_operator.spec import InvalidSpecError, SecretName, parse_spec

PLURAL: Final = "ingestservices"

# kopf's progress and diff-base annotations live under a prefix of their own:
# kopf leaves every annotation under its prefix out of the diff, so sharing
# ours would hide the pause and restart annotations from the update handler.
# Chosen once: a new prefix would make kopf replay every handler.
STORAGE_PREFIX: Final = f"operator.{naming.GROUP}"

# A watch request ends from the server side after this long, and kopf starts
# a new one; the client-side timeout catches a stream that froze silently
# behind a load balancer (kopf#585).
WATCH_SERVER_TIMEOUT: Final = 240
WATCH_CLIENT_TIMEOUT: Final = 270
CONNECT_TIMEOUT: Final = 10
CONSISTENCY_TIMEOUT: Final = 30
REQUEST_TIMEOUT: Final = 60
# A reconciliation whose API requests keep failing is retried by kopf, backing
# off, for an hour; after that the resync and the children's events still
# reconcile it.
HANDLER_TIMEOUT: Final = 3600
# For the reconcile handler, which blocks on API requests, not on the CPU.
HANDLER_THREADS: Final = 8

# The children whose changes restore drift, as (group/version, plural).
CHILD_RESOURCES: Final = (
    ("v1", "configmaps"),
    ("v1", "services"),
    ("apps/v1", "deployments"),
    ("batch/v1", "jobs"),
    ("batch/v1", "cronjobs"),
    ("policy/v1", "poddisruptionbudgets"),
    ("autoscaling/v2", "horizontalpodautoscalers"),
)
SECRETS: Final = ("v1", "secrets")
# Each watch (and its listing, in chunks) sends a label selector, so the API
# server streams only the operator's children and the Secrets labelled for
# it: memory does not grow with the other objects of the cluster, and the
# operator never holds their data. kopf's handler `labels=` would filter on
# the client, after every object had been received.
WATCH_SELECTORS: Final = {
    **{resource: naming.managed_selector() for resource in CHILD_RESOURCES},
    SECRETS: naming.reload_selector(),
}
LIST_CHUNK_SIZE: Final = 500

SecretReferences = kopf.Index[tuple[str, str], str]


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, memo: Any, **_: Any) -> None:
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=STORAGE_PREFIX)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=STORAGE_PREFIX, key="last-handled-configuration"
    )
    # After its own patch, kopf waits this long for the watch to show it before
    # taking an older event at its word and running the create handler again;
    # a loaded API server delivers events 10 s late (seen in the benchmark).
    settings.persistence.consistency_timeout = CONSISTENCY_TIMEOUT
    settings.watching.server_timeout = WATCH_SERVER_TIMEOUT
    settings.watching.client_timeout = WATCH_CLIENT_TIMEOUT
    settings.watching.connect_timeout = CONNECT_TIMEOUT
    settings.networking.connect_timeout = CONNECT_TIMEOUT
    for resource, selector in WATCH_SELECTORS.items():
        settings.watching.label_selectors[resource] = selector
    settings.watching.chunk_size = LIST_CHUNK_SIZE
    settings.networking.request_timeout = REQUEST_TIMEOUT
    # The reconciler posts an Event per transition; kopf posts no log lines,
    # and if someone turns them on, warnings at most.
    settings.posting.loggers = False
    settings.posting.level = logging.WARNING
    settings.posting.reporting_component = REPORTING_COMPONENT
    settings.posting.reporting_instance = _runtime(memo).config.instance
    # kopf's peering is not leader election (it pauses kopf's watches alone,
    # and equal priorities freeze every replica): a Lease decides which
    # replica runs kopf at all (leadership.py).
    settings.peering.standalone = True
    # Namespace-scoped RBAC cannot list namespaces or CRDs: serve the namespaces
    # configured and the CRD installed before the operator started.
    settings.scanning.disabled = True
    settings.execution.max_workers = HANDLER_THREADS
    _runtime(memo).start()


@kopf.on.cleanup()
def stop(memo: Any, **_: Any) -> None:
    _runtime(memo).stop()


@kopf.on.probe(id="runtime")
def runtime_health(memo: Any, **_: Any) -> dict[str, float]:
    # Raising fails kopf's /healthz: a dead resync or requeuer thread restarts the pod.
    return _runtime(memo).check_health()


@kopf.on.login()
def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
    # The same credentials as kube.load_api_client: in-cluster, else $KUBECONFIG.
    return kopf.login_via_client(**kwargs)


@kopf.on.resume(naming.GROUP, naming.VERSION, PLURAL, timeout=HANDLER_TIMEOUT)
@kopf.on.create(naming.GROUP, naming.VERSION, PLURAL, timeout=HANDLER_TIMEOUT)
@kopf.on.update(naming.GROUP, naming.VERSION, PLURAL, timeout=HANDLER_TIMEOUT)
def reconcile(
    namespace: str | None, name: str, body: kopf.Body, retry: int, memo: Any, **_: Any
) -> None:
    # An outcome that has to wait (a migration, a missing Secret) is scheduled
    # again by the runtime, not raised as TemporaryError: that would park this
    # resource's handlers, and with them its next spec change (requeueing.py).
    runtime = _runtime(memo)
    try:
        runtime.reconcile_now(_namespaced(namespace), name)
    except InvalidSpecError as error:
        # The reconciler wrote Ready=False and Degraded=True (InvalidSpec), with
        # the transition's Warning Event: only a new spec helps.
        raise kopf.PermanentError(str(error)) from error
    except NamespaceTerminating:
        return  # the namespace, and this resource with it, is on its way out
    except KubeError as error:
        runtime.warn(body, "ReconcileFailed", str(error))
        # Backing off as for a missing Secret, capped at five minutes.
        delay = requeue_delay(Requeue.BACKOFF, retry)
        raise kopf.TemporaryError(str(error), delay=delay) from error


@kopf.on.event(naming.GROUP, naming.VERSION, PLURAL)
async def forget_deleted(type: str, namespace: str | None, name: str, memo: Any, **_: Any) -> None:
    if type == "DELETED":
        _runtime(memo).forget(_namespaced(namespace), name)


@kopf.index(naming.GROUP, naming.VERSION, PLURAL)
async def secret_references(
    namespace: str | None, name: str, spec: kopf.Spec, **_: Any
) -> dict[tuple[str, str], str]:
    """(namespace, Secret name) -> the IngestServices whose pods read that Secret."""
    try:
        parsed = parse_spec(spec)
    except InvalidSpecError:
        return {}
    generated = SecretName(naming.generated_secret_name(name))
    return {
        (_namespaced(namespace), secret): name
        for secret in referenced_secret_names(parsed, generated)
    }


@kopf.on.event(*SECRETS)
async def secret_changed(
    type: str | None,
    namespace: str | None,
    name: str,
    body: kopf.Body,
    memo: Any,
    # kopf passes each index by its handler's name; the default is for the type checker.
    secret_references: SecretReferences | None = None,
    **_: Any,
) -> None:
    if not _is_news(type, body, memo) or namespace is None:
        return
    owners = set(secret_references.get((namespace, name), ())) if secret_references else set()
    owner = _controller_name(body)
    if owner is not None:
        owners.add(owner)
    for owner_name in sorted(owners):
        _runtime(memo).submit_after_event(namespace, owner_name, trigger="secret")


async def child_changed(
    type: str | None, namespace: str | None, body: kopf.Body, memo: Any, **_: Any
) -> None:
    owner = _controller_name(body)
    if _is_news(type, body, memo) and namespace is not None and owner is not None:
        _runtime(memo).submit_after_event(namespace, owner, trigger=str(body.get("kind")))


for _api_version, _plural in CHILD_RESOURCES:
    kopf.on.event(_api_version, _plural, id=f"child_changed/{_plural}")(child_changed)


def _is_news(type: str | None, body: kopf.Body, memo: Any) -> bool:
    """Whether the event may show drift: not an echo of the operator's own write,
    not a repeat of what was seen (child_events.calls_for_reconcile)."""
    # kopf gives each object a memo of its own: its last fingerprint lives there.
    previous, memo.fingerprint = memo.get("fingerprint"), fingerprint(body)
    own_writes = _runtime(memo).reconciler.own_writes
    if type == "DELETED":
        own_writes.forget(body)
    elif own_writes.is_echo(body):
        return False
    return calls_for_reconcile(type, previous, memo.fingerprint)


def _controller_name(body: kopf.Body) -> str | None:
    """The name of the IngestService that controls this object, if one does.

    By group and kind, not version: children keep the apiVersion they were
    created with across a move of the CRD to a new version.
    """
    for reference in body.get("metadata", {}).get("ownerReferences") or []:
        group = str(reference.get("apiVersion", "")).partition("/")[0]
        if (
            reference.get("controller")
            and reference.get("kind") == naming.KIND
            and group == naming.GROUP
        ):
            return str(reference.get("name"))
    return None


def _namespaced(namespace: str | None) -> str:
    # IngestServices are namespaced (the CRD says so); kopf types it loosely.
    if namespace is None:
        raise kopf.PermanentError("an IngestService without a namespace")
    return namespace


def _runtime(memo: Any) -> Runtime:
    runtime = getattr(memo, "runtime", None)
    if not isinstance(runtime, Runtime):
        raise TypeError("the operator was started without a Runtime in memo.runtime")
    return runtime

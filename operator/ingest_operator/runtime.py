"""What every handler shares for the operator's lifetime.

One API client, one Reconciler, one ReconcileGate, one Requeuer, a pool of
reconciliation workers and the metrics, built once by main.py and handed to
the handlers by kopf as `memo.runtime`. The two entry points differ in who
waits: the IngestService's own handlers reconcile and wait for the result
(kopf retries them when the API fails); the handlers of children and
Secrets only ask for a reconciliation and return at once, so a burst of
events never holds up kopf's event intake: the events of half a second fold
into one submission to the pool (the event folder), and submissions for a
resource being reconciled fold into one rerun. A reconciliation that has to
wait (a migration Job, a missing Secret) is scheduled again on the
Requeuer, and so is one that failed in the pool, which kopf does not retry.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

from ingest_operator import kube, metrics
from ingest_operator.coalescing import ReconcileGate
from ingest_operator.config import OperatorConfig
from ingest_operator.kube import KubeClient, KubeError, NamespaceTerminating
from ingest_operator.planning import Requeue, next_attempt, requeue_delay
from ingest_operator.reconciling import Outcome, Reconciler, Result
from ingest_operator.requeueing import Requeuer
from ingest_operator.spec import InvalidSpecError

logger = logging.getLogger(__name__)

Key = tuple[str, str]  # (namespace, name)

# Reconciliations asked for by events, requeues and the resync that may run at
# once; each is a dozen blocking API requests, so more than the cores. Also
# what bounds the operator's request rate (the API server's priority and
# fairness protects it from the rest).
RECONCILE_WORKERS: Final = 8
# Watch events of an IngestService's children within this long fold into one
# reconciliation (drift is restored this much later).
EVENT_FOLD_SECONDS: Final = 0.5
# The resync period is multiplied by a factor in this range each time.
RESYNC_JITTER: Final = (0.9, 1.1)


@dataclass
class Runtime:
    config: OperatorConfig
    kube: KubeClient
    reconciler: Reconciler
    gate: ReconcileGate = field(default_factory=ReconcileGate)
    # Why the last requeue of a key waited, and its attempt: the back-off's exponent.
    _attempts: dict[Key, tuple[Requeue, int]] = field(default_factory=dict)
    # Keys submitted and not yet picked up by a worker.
    _queued: set[Key] = field(default_factory=set)
    _queued_lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)
    _resync_thread: threading.Thread | None = None
    _last_resync: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.requeuer: Requeuer[Key] = Requeuer(self._requeued)
        # Apart from the requeuer: a reconciliation that ends cancels its own
        # requeue, never an event that arrived while it ran.
        self.event_folder: Requeuer[Key] = Requeuer(self._enqueue)
        self._workers = ThreadPoolExecutor(
            max_workers=RECONCILE_WORKERS, thread_name_prefix="reconcile"
        )
        metrics.QUEUE_DEPTH.set_function(lambda: len(self._queued))

    def start(self) -> None:
        self.requeuer.start()
        self.event_folder.start()
        self._start_resync()

    def stop(self) -> None:
        self._stopping.set()
        self.requeuer.stop()
        self.event_folder.stop()
        self._workers.shutdown(wait=False, cancel_futures=True)

    def reconcile_now(self, namespace: str, name: str) -> Outcome:
        """Reconcile after any running reconciliation of the same resource; errors propagate."""
        metrics.TRIGGERS.labels("change").inc()
        return self.gate.run((namespace, name), lambda: self._measured(namespace, name))

    def submit_after_event(self, namespace: str, name: str, *, trigger: str) -> None:
        """Reconcile once the burst this watch event belongs to has passed.

        A child changes in steps (a new Deployment's status is written three
        times within a second): the events of EVENT_FOLD_SECONDS fold into one
        reconciliation, which reads the state they led to.
        """
        metrics.TRIGGERS.labels(trigger).inc()
        self.event_folder.schedule_soon((namespace, name), EVENT_FOLD_SECONDS)

    def submit(self, namespace: str, name: str, *, trigger: str) -> None:
        """Have a worker reconcile soon; returns at once (safe on kopf's event loop).

        A key already waiting for a worker is not queued twice: the one
        reconciliation it gets reads the latest state anyway.
        """
        metrics.TRIGGERS.labels(trigger).inc()
        self._enqueue((namespace, name))

    def _enqueue(self, key: Key) -> None:
        with self._queued_lock:
            if key in self._queued or self._stopping.is_set():
                return
            self._queued.add(key)
        self._workers.submit(self._work_on, key)

    def _work_on(self, key: Key) -> None:
        with self._queued_lock:
            self._queued.discard(key)
        self._request_reconcile(key)

    def _request_reconcile(self, key: Key) -> None:
        """Reconcile, or leave it to the one running; a failure is retried later, not raised."""
        namespace, name = key
        try:
            self.gate.request(key, lambda: self._measured(namespace, name))
        except NamespaceTerminating:
            logger.debug("%s/%s: its namespace is being deleted", namespace, name)
        except KubeError as error:
            logger.warning("reconciling %s/%s failed, will retry: %s", namespace, name, error)
            self._schedule(key, Requeue.BACKOFF)
        except InvalidSpecError as error:
            # Only a new spec helps, and that arrives as an update event.
            logger.warning("reconciling %s/%s refused the spec: %s", namespace, name, error)
        except Exception:
            # A bug or a reply the client cannot read (a proxy's HTML page): the
            # traceback goes to the log, and the resource is tried again.
            logger.exception("reconciling %s/%s failed unexpectedly, will retry", namespace, name)
            self._schedule(key, Requeue.BACKOFF)

    def forget(self, namespace: str, name: str) -> None:
        """The resource is gone: drop what the runtime kept about it."""
        key = (namespace, name)
        self.requeuer.cancel(key)
        self._attempts.pop(key, None)
        self.gate.forget(key)
        self.reconciler.forget(namespace, name)
        metrics.forget_ingest_service(namespace, name)

    def check_health(self) -> dict[str, float]:
        """Seconds since the last resync; raises when a thread the operator needs has died."""
        if not self.requeuer.alive() or not self.event_folder.alive():
            raise RuntimeError("the requeuer thread has stopped")
        if self._resync_thread is not None and not self._resync_thread.is_alive():
            raise RuntimeError("the resync thread has stopped")
        return {"seconds_since_resync": round(time.monotonic() - self._last_resync, 1)}

    def warn(self, resource: Any, reason: str, message: str) -> None:
        """Post a Warning Event about a failure the status cannot carry."""
        try:
            self.kube.post_event(resource, type="Warning", reason=reason, message=message)
        except KubeError as error:
            logger.warning("could not post the %s Event: %s", reason, error)

    def _measured(self, namespace: str, name: str) -> Outcome:
        started = time.perf_counter()
        try:
            outcome = self.reconciler.reconcile(namespace, name)
        except Exception as error:
            metrics.RECONCILES.labels(metrics.ERROR_RESULT).inc()
            metrics.ERRORS.labels(type(error).__name__).inc()
            raise
        finally:
            metrics.DURATION.observe(time.perf_counter() - started)
        metrics.RECONCILES.labels(outcome.result.value).inc()
        logger.info(
            "reconciled %s/%s: %s (%s)", namespace, name, outcome.result.value, outcome.reason
        )
        self._follow_up((namespace, name), outcome)
        return outcome

    def _follow_up(self, key: Key, outcome: Outcome) -> None:
        if outcome.result is Result.GONE:
            self.forget(*key)
        elif outcome.requeue is None:
            self._attempts.pop(key, None)
            self.requeuer.cancel(key)
        else:
            self._schedule(key, outcome.requeue)

    def _schedule(self, key: Key, requeue: Requeue) -> None:
        self._attempts[key] = next_attempt(self._attempts.get(key), requeue)
        self.requeuer.schedule(key, requeue_delay(*self._attempts[key]))

    def _requeued(self, key: Key) -> None:
        self.submit(*key, trigger="requeue")

    def _start_resync(self) -> None:
        """Reconcile every IngestService every config.resync_seconds until stop().

        Events can be missed (a watch that broke, an operator restarted between
        two events): this is the safety net.
        """
        if self.config.resync_seconds <= 0:
            return
        self._resync_thread = threading.Thread(
            target=self._resync_forever,
            args=(self.config.resync_seconds,),
            name="resync",
            daemon=True,
        )
        self._resync_thread.start()

    def _resync_forever(self, interval: float) -> None:
        # Jittered, as controller-runtime's SyncPeriod is: replicas and restarts
        # do not all list and reconcile at the same moment.
        while not self._stopping.wait(interval * random.uniform(*RESYNC_JITTER)):  # noqa: S311 - not for secrets
            try:
                self._resync()
            except KubeError as error:
                logger.warning("resync: could not list IngestServices: %s", error)
            except Exception:
                # The resync is the safety net for missed events: it must outlive a bug.
                logger.exception("resync failed unexpectedly; trying again next period")

    def _resync(self) -> None:
        keys = list(self._ingest_service_keys())
        self._last_resync = time.monotonic()
        for namespace, name in keys:
            if self._stopping.is_set():
                return
            self.submit(namespace, name, trigger="resync")

    def _ingest_service_keys(self) -> Iterable[Key]:
        namespaces: Iterable[str | None] = self.config.watch_namespaces or [None]
        for namespace in namespaces:
            for item in self.kube.list_ingest_services(namespace):
                yield item["metadata"]["namespace"], item["metadata"]["name"]


def build_runtime(config: OperatorConfig) -> Runtime:
    kube_client = KubeClient(kube.load_api_client(), reporting_instance=config.instance)
    return Runtime(config=config, kube=kube_client, reconciler=Reconciler(kube_client))

"""What every handler shares for the operator's lifetime.

One API client, one Reconciler, one ReconcileGate, one Requeuer, a pool of
reconciliation workers and the metrics, built once by main.py and handed to
the handlers by kopf as `memo.runtime`. The two entry points differ in who
waits: the IngestService's own handlers reconcile and wait for the result
(kopf retries them when the API fails); the handlers of children and
Secrets only submit a reconciliation to the pool and return at once, so a
burst of events never holds up kopf's event intake, and submissions for a
resource being reconciled fold into one rerun. A reconciliation that has to
wait (a migration Job, a missing Secret) is scheduled again on the
Requeuer, and so is one that failed in the pool, which kopf does not retry.
"""

from __future__ import annotations

import logging
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
from ingest_operator.planning import Requeue, requeue_delay
from ingest_operator.reconciling import Outcome, Reconciler
from ingest_operator.requeueing import Requeuer
from ingest_operator.spec import InvalidSpecError

logger = logging.getLogger(__name__)

Key = tuple[str, str]  # (namespace, name)

# Reconciliations asked for by events, requeues and the resync that may run at
# once; each is a dozen blocking API requests, so more than the cores.
RECONCILE_WORKERS: Final = 8


@dataclass
class Runtime:
    config: OperatorConfig
    kube: KubeClient
    reconciler: Reconciler
    gate: ReconcileGate = field(default_factory=ReconcileGate)
    # Consecutive reconciliations of a key that had to wait: the back-off's exponent.
    _attempts: dict[Key, int] = field(default_factory=dict)
    # Keys submitted and not yet picked up by a worker.
    _queued: set[Key] = field(default_factory=set)
    _queued_lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.requeuer: Requeuer[Key] = Requeuer(self._requeued)
        self._workers = ThreadPoolExecutor(
            max_workers=RECONCILE_WORKERS, thread_name_prefix="reconcile"
        )

    def start(self) -> None:
        self.requeuer.start()
        self._start_resync()

    def stop(self) -> None:
        self._stopping.set()
        self.requeuer.stop()
        self._workers.shutdown(wait=False, cancel_futures=True)

    def reconcile_now(self, namespace: str, name: str) -> Outcome:
        """Reconcile after any running reconciliation of the same resource; errors propagate."""
        metrics.TRIGGERS.labels("change").inc()
        return self.gate.run((namespace, name), lambda: self._measured(namespace, name))

    def submit(self, namespace: str, name: str, *, trigger: str) -> None:
        """Have a worker reconcile soon; returns at once (safe on kopf's event loop).

        A key already waiting for a worker is not queued twice: the one
        reconciliation it gets reads the latest state anyway.
        """
        metrics.TRIGGERS.labels(trigger).inc()
        key = (namespace, name)
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

    def forget(self, namespace: str, name: str) -> None:
        """The resource is gone: drop what the runtime kept about it."""
        key = (namespace, name)
        self.requeuer.cancel(key)
        self._attempts.pop(key, None)
        self.gate.forget(key)

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
        if outcome.requeue is None:
            self._attempts.pop(key, None)
            self.requeuer.cancel(key)
        else:
            self._schedule(key, outcome.requeue)

    def _schedule(self, key: Key, requeue: Requeue) -> None:
        attempt = self._attempts.get(key, 0)
        self._attempts[key] = attempt + 1
        self.requeuer.schedule(key, requeue_delay(requeue, attempt))

    def _requeued(self, key: Key) -> None:
        self.submit(*key, trigger="requeue")

    def _start_resync(self) -> None:
        """Reconcile every IngestService every config.resync_seconds until stop().

        Events can be missed (a watch that broke, an operator restarted between
        two events): this is the safety net.
        """
        if self.config.resync_seconds <= 0:
            return
        threading.Thread(
            target=self._resync_forever,
            args=(self.config.resync_seconds,),
            name="resync",
            daemon=True,
        ).start()

    def _resync_forever(self, interval: float) -> None:
        while not self._stopping.wait(interval):
            try:
                keys = list(self._ingest_service_keys())
            except KubeError as error:
                logger.warning("resync: could not list IngestServices: %s", error)
                continue
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

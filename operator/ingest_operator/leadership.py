"""Only one replica reconciles: a coordination.k8s.io Lease decides which.

kopf's peering is not election: it pauses kopf's own watches only (the
runtime's resync, requeuer and workers would go on beside it), and replicas of
equal priority all pause. So the whole operator runs only while this process
holds the Lease, through the kubernetes client's elector (controller-runtime's
timings by default: a 15 s lease, renewed every 2 s, given up 10 s after the
last renewal that worked):

- standby: the process campaigns and answers its liveness probe, nothing more;
- leading: the operator starts (kopf, and with it the runtime) in the
  elector's thread;
- a lease it fails to renew: the process exits at once, as controller-runtime
  does: a replica that may no longer lead must not write another byte, and
  its Deployment starts it again as a candidate;
- SIGTERM: the operator stops, then the Lease is released (no holder), so
  that the other replica takes over at its next try instead of waiting for
  the lease to run out.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import FrameType
from typing import Any, Final

from kubernetes import client as kube_client
from kubernetes.leaderelection import electionconfig, leaderelection
from kubernetes.leaderelection.leaderelectionrecord import LeaderElectionRecord
from kubernetes.leaderelection.resourcelock.leaselock import LeaseLock

from ingest_operator import metrics
from ingest_operator.config import LeaderElection

logger = logging.getLogger(__name__)

# After SIGTERM: how long the operator may take to stop before the Lease is
# released anyway (kopf waits a few seconds for its handlers; a
# reconciliation is a dozen requests of at most 30 s each).
STOP_GRACE_SECONDS: Final = 20.0
# What the Lease says once released: no holder, expiring at once.
RELEASED_LEASE_SECONDS: Final = "1"
# A lost Lease, or an operator that stopped while leading: the Deployment
# starts the container again, as a candidate.
EXIT_NOT_LEADING: Final = 1


class ReleasableLease:
    """The client's LeaseLock, plus the release its elector lacks.

    The elector renews from its own thread; once released, the lock refuses
    to write again, so a renewal racing the release cannot take it back.
    """

    def __init__(self, lock: LeaseLock) -> None:
        self._lock = lock
        self._released = False
        self._writing = threading.Lock()
        self.name, self.namespace, self.identity = lock.name, lock.namespace, lock.identity

    def get(self, name: str, namespace: str) -> tuple[bool, Any]:
        found: tuple[bool, Any] = self._lock.get(name, namespace)
        return found

    def create(self, name: str, namespace: str, election_record: LeaderElectionRecord) -> bool:
        with self._writing:
            return not self._released and bool(self._lock.create(name, namespace, election_record))

    def update(self, name: str, namespace: str, updated_record: LeaderElectionRecord) -> bool:
        with self._writing:
            return not self._released and bool(self._lock.update(name, namespace, updated_record))

    def release(self) -> bool:
        """Clear the holder if it is still this process; True when released."""
        with self._writing:
            self._released = True
            found, record = self._lock.get(self.name, self.namespace)
            if not found or record.holder_identity != self.identity:
                return False
            released = LeaderElectionRecord(
                None, RELEASED_LEASE_SECONDS, record.acquire_time, record.renew_time
            )
            return bool(self._lock.update(self.name, self.namespace, released))


class StandbyProbe:
    """The liveness endpoint while standing by; kopf serves it once leading."""

    def __init__(self, port: int) -> None:
        self._server = ThreadingHTTPServer(("0.0.0.0", port), _StandbyHealth)  # noqa: S104 - probed on the pod's IP
        threading.Thread(
            target=self._server.serve_forever, name="standby-probe", daemon=True
        ).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class _StandbyHealth(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        found = self.path == "/healthz"
        body = json.dumps({"leader": False} if found else {"error": "not found"}).encode()
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return  # one line per probe says nothing the probe's result does not


def run_as_leader(
    election: LeaderElection,
    api: kube_client.ApiClient,
    *,
    identity: str,
    liveness_port: int,
    operate: Callable[[threading.Event], None],
) -> int:
    """Campaign for the Lease, `operate(stop)` while holding it; the exit code.

    Returns after SIGTERM or SIGINT once the operator stopped and the Lease
    was released; exits the process at once if the Lease is lost.
    """
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    lock = LeaseLock(election.lease_name, election.namespace, identity)
    lock.api_instance = kube_client.CoordinationV1Api(api)  # the operator's credentials
    lease = ReleasableLease(lock)
    probe = StandbyProbe(liveness_port) if liveness_port else None
    leading, stopped = threading.Event(), threading.Event()
    exit_code = 0

    def on_started_leading() -> None:
        nonlocal exit_code
        logger.info("leading: holding Lease %s/%s", election.namespace, election.lease_name)
        metrics.LEADER.set(1)
        leading.set()
        if probe is not None:
            probe.close()  # kopf's liveness endpoint takes the port
        try:
            operate(stop)
        finally:
            if not stop.is_set():
                logger.error("the operator stopped on its own while leading")
                exit_code = EXIT_NOT_LEADING
                stop.set()
            stopped.set()

    def on_stopped_leading() -> None:
        if not stop.is_set():
            logger.error(
                "lost Lease %s/%s (no renewal within %s s): exiting",
                election.namespace,
                election.lease_name,
                election.renew_deadline_seconds,
            )
            logging.shutdown()
            os._exit(EXIT_NOT_LEADING)

    config = electionconfig.Config(
        lease,
        election.lease_duration_seconds,
        election.renew_deadline_seconds,
        election.retry_period_seconds,
        on_started_leading,
        on_stopped_leading,
    )
    logger.info(
        "standing by as %s for Lease %s/%s", identity, election.namespace, election.lease_name
    )
    elector = leaderelection.LeaderElection(config)
    threading.Thread(target=elector.run, name="leader-election", daemon=True).start()
    stop.wait()
    if leading.is_set():
        if not stopped.wait(STOP_GRACE_SECONDS):
            logger.warning("the operator did not stop within %s s", STOP_GRACE_SECONDS)
        released = lease.release()
        logger.info("released Lease %s/%s: %s", election.namespace, election.lease_name, released)
    return exit_code

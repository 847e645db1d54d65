"""Entry point of the `ingest-operator` command.

Reads the operator's settings from its environment (config.py), sets up JSON
logs, the metrics endpoint and the liveness endpoint, and runs kopf with the
handlers of handlers.py, cluster-wide or in the namespaces of
WATCH_NAMESPACES: at once, or with LEADER_ELECTION=true only while this
replica holds the Lease (leadership.py). A bad setting exits at once with
the variable's name.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import uuid

import kopf

from ingest_operator import (
    handlers,  # noqa: F401 - importing it registers the handlers with kopf
    metrics,
)
from ingest_operator.config import ConfigError, OperatorConfig, load_config
from ingest_operator.leadership import run_as_leader
from ingest_operator.runtime import Runtime, build_runtime

logger = logging.getLogger(__name__)


def main() -> None:
    try:
        config = load_config(os.environ)
    except ConfigError as error:
        sys.exit(f"ingest-operator: {error}")
    configure_logging(config)
    runtime = build_runtime(config)
    metrics.record_build()
    metrics.serve_metrics(config.metrics_port)
    logger.info(
        "starting: %s, metrics on :%s, liveness on :%s",
        "cluster-wide" if config.clusterwide else f"namespaces {list(config.watch_namespaces)}",
        config.metrics_port or "off",
        config.liveness_port or "off",
    )
    if config.leader_election is None:
        operate(config, runtime)
        return
    exit_code = run_as_leader(
        config.leader_election,
        runtime.kube.api,
        # Unique even when two processes share a pod name (a restarted container).
        identity=f"{config.instance}_{uuid.uuid4().hex[:12]}",
        liveness_port=config.liveness_port,
        operate=lambda stop: operate(config, runtime, stop_flag=stop),
    )
    # Not sys.exit: executor threads still blocked on a request would hold
    # the interpreter's exit, and the Lease is already released.
    logging.shutdown()
    os._exit(exit_code)


def operate(
    config: OperatorConfig, runtime: Runtime, *, stop_flag: threading.Event | None = None
) -> None:
    """Run kopf with the handlers until a signal (or `stop_flag`) stops it."""
    try:
        kopf.run(
            clusterwide=config.clusterwide,
            namespaces=config.watch_namespaces,
            # See handlers.configure: election, when on, is leadership.py's.
            standalone=True,
            liveness_endpoint=liveness_endpoint(config),
            memo=kopf.Memo(runtime=runtime),
            stop_flag=stop_flag,
        )
    finally:
        runtime.stop()


def configure_logging(config: OperatorConfig) -> None:
    """JSON lines with the object each record is about, as log pipelines parse them."""
    debug = config.log_level == "debug"
    kopf.configure(log_format=kopf.LogFormat.JSON, debug=debug)
    logging.getLogger().setLevel(config.log_level.upper())
    objects = logging.getLogger("kopf.objects")
    if not debug:
        # kopf logs every event handler's success; "reconciled ..." lines
        # from runtime.py say what matters, once per reconciliation.
        objects.setLevel(logging.WARNING)
        # One line per liveness probe says nothing the probe's result does not.
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def liveness_endpoint(config: OperatorConfig) -> str | None:
    # Every interface: the kubelet probes the pod's IP.
    return f"http://0.0.0.0:{config.liveness_port}/healthz" if config.liveness_port else None

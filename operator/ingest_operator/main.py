"""Entry point of the `ingest-operator` command.

Reads the operator's settings from its environment (config.py), sets up JSON
logs, the metrics endpoint and the liveness endpoint, and runs kopf with the
handlers of handlers.py, cluster-wide or in the namespaces of
WATCH_NAMESPACES. A bad setting exits at once with the variable's name.
"""

from __future__ import annotations

import logging
import os
import sys

import kopf

from ingest_operator import (
    handlers,  # noqa: F401 - importing it registers the handlers with kopf
    metrics,
)
from ingest_operator.config import ConfigError, OperatorConfig, load_config
from ingest_operator.runtime import build_runtime

logger = logging.getLogger(__name__)


def main() -> None:
    try:
        config = load_config(os.environ)
    except ConfigError as error:
        sys.exit(f"ingest-operator: {error}")
    configure_logging(config)
    runtime = build_runtime(config)
    metrics.serve_metrics(config.metrics_port)
    logger.info(
        "starting: %s, metrics on :%s, liveness on :%s",
        "cluster-wide" if config.clusterwide else f"namespaces {list(config.watch_namespaces)}",
        config.metrics_port or "off",
        config.liveness_port or "off",
    )
    try:
        kopf.run(
            clusterwide=config.clusterwide,
            namespaces=config.watch_namespaces,
            # See handlers.configure: one active replica, no peering.
            standalone=True,
            liveness_endpoint=liveness_endpoint(config),
            memo=kopf.Memo(runtime=runtime),
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

"""Benchmark of the operator's memory in a crowded namespace: its peak RSS with
thousands of unrelated Secrets and ConfigMaps beside one IngestService,
against the same operator beside the same IngestService alone, in the same run.

    uv run python bench/operator_memory.py [--objects 5000] [--kib 10]

Each run starts `ingest-operator` (a real process) watching one fresh
namespace, creates one IngestService there, waits until it has rolled out,
gives the watches time to settle and reads the process's peak RSS (VmHWM).
The crowded namespace holds, before the operator starts, `--objects` Secrets
and as many ConfigMaps of `--kib` KiB each that no IngestService references
and that carry no label of the operator's. The watches send label selectors
(handlers.WATCH_SELECTORS), so the API server never streams those objects to
the operator: its peak stays where it is without them (aim: under 150 MiB).
Needs the control plane (`hack/stack.sh up controlplane`).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kubernetes import config as kube_config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.operator_reconcile import (  # noqa: E402
    complete_migrations,
    delete_namespace,
    new_namespace,
    rolled_out_count,
)
from tests.support.cluster import Cluster  # noqa: E402
from tests.support.ingest_service_builders import minimal_spec  # noqa: E402
from tests.support.local_stack import ensure_up  # noqa: E402
from tests.support.operator import (  # noqa: E402
    ingest_service_manifest,
    install_crd,
    secret_manifest,
    start_operator,
)

AIM_MIB = 150
# Time for the watches' listings and a few resyncs' worth of events to land.
SETTLE_SECONDS = 10.0
TIMEOUT_SECONDS = 120.0
CREATE_THREADS = 8


def fill_namespace(cluster: Cluster, namespace: str, count: int, kib: int) -> None:
    """`count` Secrets and `count` ConfigMaps of `kib` KiB each, unrelated to any IngestService."""
    value = "x" * (kib * 1024)

    def create(index: int) -> None:
        cluster.create(secret_manifest(namespace, f"unrelated-{index}", {"v": value}, reload=False))
        cluster.create(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"unrelated-{index}", "namespace": namespace},
                "data": {"v": value},
            }
        )

    with ThreadPoolExecutor(CREATE_THREADS) as pool:
        list(pool.map(create, range(count)))


def peak_rss_mib(cluster: Cluster, kubeconfig: str, namespace: str, log: Path) -> float:
    """The operator's peak RSS, having rolled out one IngestService in `namespace`."""
    operator = start_operator(kubeconfig, log, namespaces=[namespace], env={"LOG_LEVEL": "warning"})
    stop = threading.Event()
    kubelet = threading.Thread(target=complete_migrations, args=(cluster, namespace, stop))
    kubelet.start()
    try:
        cluster.create(ingest_service_manifest(namespace, "shop", minimal_spec()))
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while rolled_out_count(cluster, namespace) < 1:
            if time.monotonic() > deadline:
                raise TimeoutError(f"the IngestService in {namespace} did not roll out")
            time.sleep(0.25)
        time.sleep(SETTLE_SECONDS)
        return operator.peak_rss_kib() / 1024
    finally:
        stop.set()
        kubelet.join()
        operator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=5000, help="Secrets, and as many ConfigMaps")
    parser.add_argument("--kib", type=int, default=10, help="size of each, KiB")
    args = parser.parse_args()

    kubeconfig = ensure_up("controlplane").settings["KUBECONFIG"]
    cluster = Cluster(kube_config.new_client_from_config(config_file=kubeconfig))  # type: ignore[no-untyped-call]
    install_crd(cluster)
    with tempfile.TemporaryDirectory(prefix="bench-operator-memory-") as log_dir:
        alone = new_namespace(cluster, "alone")
        crowded = new_namespace(cluster, "crowded")
        try:
            started = time.perf_counter()
            fill_namespace(cluster, crowded, args.objects, args.kib)
            print(
                f"created {2 * args.objects} objects in {time.perf_counter() - started:.0f} s",
                file=sys.stderr,
            )
            baseline = peak_rss_mib(cluster, kubeconfig, alone, Path(log_dir) / "alone.log")
            crowded_peak = peak_rss_mib(cluster, kubeconfig, crowded, Path(log_dir) / "crowded.log")
        finally:
            delete_namespace(cluster, alone)
            delete_namespace(cluster, crowded)
    unrelated_mib = 2 * args.objects * args.kib / 1024
    print(f"{'namespace':<40} {'peak RSS MiB':>13}")
    print("-" * 54)
    print(f"{'one IngestService alone':<40} {baseline:>13.1f}")
    label = f"+ {2 * args.objects} unrelated ({unrelated_mib:.0f} MiB)"
    print(f"{label:<40} {crowded_peak:>13.1f}")
    print(f"ratio {crowded_peak / baseline:.2f}x; aim: under {AIM_MIB} MiB")


if __name__ == "__main__":
    main()

"""Benchmark of the operator: how long it takes to reconcile N IngestServices,
against `kubectl apply --server-side` of the same children rendered ahead of
time, in the same run; with the operator's peak memory.

    uv run python bench/operator_reconcile.py [--sizes 10,50,200]

For each N, in a fresh namespace each:
- operator: N IngestServices are created while `ingest-operator` runs (a real
  process, watching that namespace); the clock stops when every one reports
  Progressing=RollingOut, i.e. all eight children exist, the Deployments
  included. No kubelet runs migration Jobs here, so a helper marks each Job
  complete as soon as it appears (as in the tests); that latency counts
  against the operator.
- kubectl: N IngestServices are created with no operator running, their
  children rendered with render.py (owner uids included) and written to one
  file, and the clock runs around one `kubectl apply --server-side` of it.

The ratio says what the operator's watching, reading of Secrets, policy,
ordering (migration first) and status reporting cost on top of the bare API
writes. Needs the control plane (`hack/stack.sh up controlplane`); honours
the INGEST_* variables as hack/stack.sh does. Each IngestService has one
Service, and the local stack's Service range is a /24: N stays below 250.
Figures vary with the machine and its load: compare the ratio, measured side
by side.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
import yaml
from kubernetes import config as kube_config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.cluster import ApiError, Cluster  # noqa: E402
from tests.support.ingest_service_builders import minimal_spec  # noqa: E402
from tests.support.kubelet import finish_job  # noqa: E402
from tests.support.local_stack import ensure_up  # noqa: E402
from tests.support.operator import (  # noqa: E402
    condition,
    counter_total,
    create_referenced_secrets,
    ingest_service_manifest,
    install_crd,
    reconciles_total,
    start_operator,
)

from ingest_operator.render import Owner, RenderInputs, render_desired_objects  # noqa: E402
from ingest_operator.spec import parse_spec  # noqa: E402

POLL_SECONDS = 0.25
# The liveness endpoint answers before kopf's watches are open: give them a
# moment, so the clock measures reconciliation rather than start-up.
OPERATOR_SETTLE_SECONDS = 2.0
TIMEOUT_SECONDS = 600.0
# Stand for the generated keys and the checksum: the baseline only needs
# objects of the same shape and size as the operator's.
BASELINE_JWT_KEY = "b" * 64
BASELINE_CHECKSUM = "c" * 64


@dataclass(frozen=True)
class OperatorRun:
    seconds: float
    reconciles: float
    # The reconciler's own requests to the API server (kopf's watches aside).
    requests: float
    cpu_seconds: float
    peak_rss_mib: float


@dataclass(frozen=True)
class Row:
    size: int
    objects: int
    kubectl_seconds: float
    operator: OperatorRun

    @property
    def ratio(self) -> float:
        return self.operator.seconds / self.kubectl_seconds


def new_namespace(cluster: Cluster, label: str) -> str:
    name = f"bench-{label}-{uuid.uuid4().hex[:8]}"
    cluster.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    create_referenced_secrets(cluster, name)
    return name


def delete_namespace(cluster: Cluster, namespace: str) -> None:
    """Delete the namespace and wait until it is gone.

    The local stack's Service range is a /24: the next size's Services only
    fit once this size's have released their cluster IPs.
    """
    cluster.delete("Namespace", None, namespace)
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while cluster.get("Namespace", None, namespace) is not None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"namespace {namespace} still exists")
        time.sleep(POLL_SECONDS)


def create_ingest_services(cluster: Cluster, namespace: str, size: int) -> list[dict[str, Any]]:
    return [
        cluster.create(ingest_service_manifest(namespace, f"svc-{index:04d}", minimal_spec()))
        for index in range(size)
    ]


def rolled_out_count(cluster: Cluster, namespace: str) -> int:
    return sum(
        condition(resource, "Progressing").get("reason") in ("RollingOut", "Available")
        for resource in cluster.list("IngestService", namespace)
    )


def complete_migrations(cluster: Cluster, namespace: str, stop: threading.Event) -> None:
    """Play the kubelet for migration Jobs: report each one complete once it exists."""
    done: set[str] = set()
    while not stop.wait(POLL_SECONDS / 2):
        try:
            for job in cluster.list("Job", namespace):
                name = job["metadata"]["name"]
                if name not in done:
                    finish_job(cluster, namespace, name, succeeded=True)
                    done.add(name)
        except (ApiError, urllib3.exceptions.HTTPError) as error:
            # A loaded API server may refuse or time out now and then: try again.
            print(f"kubelet stand-in: {error}", file=sys.stderr)


def time_operator(cluster: Cluster, kubeconfig: str, size: int, log_dir: Path) -> OperatorRun:
    """How long until all N rolled out, and what it cost the operator."""
    namespace = new_namespace(cluster, f"op{size}")
    operator = start_operator(
        kubeconfig,
        log_dir / f"operator-{size}.log",
        namespaces=[namespace],
        env={"RESYNC_SECONDS": "0", "LOG_LEVEL": "warning"},
    )
    stop = threading.Event()
    kubelet = threading.Thread(target=complete_migrations, args=(cluster, namespace, stop))
    kubelet.start()
    time.sleep(OPERATOR_SETTLE_SECONDS)
    try:
        cpu_before = operator.cpu_seconds()
        started = time.perf_counter()
        create_ingest_services(cluster, namespace, size)
        while rolled_out_count(cluster, namespace) < size:
            if operator.process.poll() is not None:
                raise RuntimeError(f"the operator exited ({operator.process.returncode})")
            if time.perf_counter() - started > TIMEOUT_SECONDS:
                raise TimeoutError(f"{size} IngestServices not rolled out in {TIMEOUT_SECONDS}s")
            time.sleep(POLL_SECONDS)
        elapsed = time.perf_counter() - started
        cpu = operator.cpu_seconds() - cpu_before
        return OperatorRun(
            seconds=elapsed,
            reconciles=reconciles_total(operator),
            requests=counter_total(operator, "ingest_operator_api_requests_total"),
            cpu_seconds=cpu,
            peak_rss_mib=operator.peak_rss_kib() / 1024,
        )
    finally:
        stop.set()
        kubelet.join()
        operator.stop()
        delete_namespace(cluster, namespace)


def time_kubectl(cluster: Cluster, kubectl: str, kubeconfig: str, size: int) -> tuple[float, int]:
    """(seconds for one `kubectl apply --server-side` of every child, number of objects)."""
    namespace = new_namespace(cluster, f"ssa{size}")
    try:
        objects = []
        for resource in create_ingest_services(cluster, namespace, size):
            metadata = resource["metadata"]
            owner = Owner(name=metadata["name"], namespace=namespace, uid=metadata["uid"])
            inputs = RenderInputs(
                owner=owner,
                checksum=BASELINE_CHECKSUM,
                checksum_key=BASELINE_JWT_KEY,
                generated_jwt_secret=BASELINE_JWT_KEY,
                database_digest=BASELINE_CHECKSUM,
            )
            objects += render_desired_objects(parse_spec(resource["spec"]), inputs)
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as manifest:
            yaml.safe_dump_all(objects, manifest)
            manifest.flush()
            command = [kubectl, "--kubeconfig", kubeconfig, "apply", "--server-side"]
            command += ["--field-manager", "bench", "-f", manifest.name]
            started = time.perf_counter()
            applied = subprocess.run(command, check=False, capture_output=True, text=True)
            elapsed = time.perf_counter() - started
            if applied.returncode != 0:
                raise RuntimeError(f"kubectl apply failed: {applied.stderr.strip()[-2000:]}")
            return elapsed, len(objects)
    finally:
        delete_namespace(cluster, namespace)


def print_table(rows: list[Row]) -> None:
    header = (
        f"{'N':>5} {'objects':>8} {'operator s':>11} {'kubectl SSA s':>14} {'ratio':>7} "
        f"{'reconciles':>11} {'requests':>9} {'operator CPU s':>15} {'peak RSS MiB':>13}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        run = row.operator
        print(
            f"{row.size:>5} {row.objects:>8} {run.seconds:>11.2f} {row.kubectl_seconds:>14.2f} "
            f"{row.ratio:>6.1f}x {run.reconciles:>11.0f} {run.requests:>9.0f} "
            f"{run.cpu_seconds:>15.2f} {run.peak_rss_mib:>13.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default="10,50,200", help="comma-separated N (default 10,50,200)"
    )
    sizes = [int(size) for size in parser.parse_args().sizes.split(",")]

    settings = ensure_up("controlplane").settings
    kubeconfig, kubectl = settings["KUBECONFIG"], settings["KUBECTL"]
    api = kube_config.new_client_from_config(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    cluster = Cluster(api)
    install_crd(cluster)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-operator-") as log_dir:
        for size in sizes:
            kubectl_seconds, objects = time_kubectl(cluster, kubectl, kubeconfig, size)
            run = time_operator(cluster, kubeconfig, size, Path(log_dir))
            rows.append(Row(size, objects, kubectl_seconds, run))
            print(f"N={size}: done", file=sys.stderr)
    print_table(rows)


if __name__ == "__main__":
    main()

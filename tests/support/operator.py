"""Run the operator for real, and the objects it works on, for the operator tests and the benchmark.

The operator runs as its console script, `ingest-operator`, in a process of
its own with a KUBECONFIG, as it would in a pod: its JSON logs go to a
file (printed when a test fails), its metrics and liveness endpoints listen
on free ports, and a test can stop it and start another one mid-way.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from ingest_operator.naming import RELOAD_LABEL, RELOAD_LABEL_VALUE
from tests.support.cluster import Cluster, wait_for, wait_until_established
from tests.support.crd_schema import CRD_PATH
from tests.support.ingest_service_builders import referenced_secrets
from tests.support.kubelet import finish_job
from tests.support.processes import BIN_DIR, free_port

OPERATOR_COMMAND = BIN_DIR / "ingest-operator"
DEPLOY_DIR = Path(__file__).resolve().parents[2] / "operator" / "deploy"
API_VERSION = "ingest.example.com/v1alpha1"


def install_crd(cluster: Cluster) -> None:
    """Apply the CRD from crds/ (as it is in the repository) and wait until it is served."""
    crd = yaml.safe_load(CRD_PATH.read_text())
    cluster.apply(crd)
    wait_until_established(cluster, crd["metadata"]["name"])


def deploy_manifests(name: str) -> list[dict[str, Any]]:
    """The documents of one file in operator/deploy/."""
    return [doc for doc in yaml.safe_load_all((DEPLOY_DIR / name).read_text()) if doc]


# --- the objects an IngestService needs -------------------------------------------


def secret_manifest(
    namespace: str, name: str, data: Mapping[str, str], *, reload: bool = True
) -> dict[str, Any]:
    """A Secret; `reload` labels it so that the operator watches it (naming.RELOAD_LABEL)."""
    labels = {RELOAD_LABEL: RELOAD_LABEL_VALUE} if reload else {}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "type": "Opaque",
        "data": {key: base64.b64encode(value.encode()).decode() for key, value in data.items()},
    }


def create_referenced_secrets(
    cluster: Cluster, namespace: str, *, reload: bool = True, **overrides: dict[str, str]
) -> None:
    """Every Secret the builders' specs reference, with `overrides` by Secret name."""
    for name, data in {**referenced_secrets(), **overrides}.items():
        cluster.create(secret_manifest(namespace, name, data, reload=reload))


def ingest_service_manifest(
    namespace: str, name: str, spec: Mapping[str, Any], annotations: Mapping[str, str] | None = None
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if annotations:
        metadata["annotations"] = dict(annotations)
    return {"apiVersion": API_VERSION, "kind": "IngestService", "metadata": metadata, "spec": spec}


def condition(resource: Mapping[str, Any] | None, kind: str) -> dict[str, Any]:
    """One condition of an IngestService's status ({} while it has none)."""
    for found in ((resource or {}).get("status") or {}).get("conditions") or []:
        if found["type"] == kind:
            return dict(found)
    return {}


def events_about(cluster: Cluster, namespace: str, name: str) -> list[dict[str, Any]]:
    return [
        event
        for event in cluster.list("Event", namespace)
        if event["involvedObject"].get("kind") == "IngestService"
        and event["involvedObject"].get("name") == name
    ]


# --- the operator process ---------------------------------------------------------


@dataclass
class OperatorProcess:
    process: subprocess.Popen[bytes]
    log_path: Path
    metrics_port: int
    liveness_port: int

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_messages(self) -> list[str]:
        """The message of each JSON log line; a line that is not JSON, as it is."""
        messages = []
        for line in self.log().splitlines():
            try:
                messages.append(str(json.loads(line)["message"]))
            except (ValueError, KeyError, TypeError):
                messages.append(line)
        return messages

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).text

    def peak_rss_kib(self) -> int:
        """The most memory the process has held (VmHWM), in KiB."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM in /proc/<pid>/status")

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far (user and system)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        # utime and stime are the 14th and 15th fields; fields[0] is the 3rd.
        ticks = int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self, *, timeout: float = 20) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """Stop without a goodbye, as an OOM kill or a node failure would."""
        self.process.kill()
        self.process.wait()


def start_operator(
    kubeconfig: str,
    log_path: Path,
    *,
    namespaces: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
    timeout: float = 30,
) -> OperatorProcess:
    """`ingest-operator` in its own process, once its liveness endpoint answers."""
    metrics_port, liveness_port = free_port(), free_port()
    full_env = {
        **os.environ,
        "KUBECONFIG": kubeconfig,
        "WATCH_NAMESPACES": ",".join(namespaces),
        "METRICS_PORT": str(metrics_port),
        "LIVENESS_PORT": str(liveness_port),
        **(env or {}),
    }
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [str(OPERATOR_COMMAND)], env=full_env, stdout=log_file, stderr=subprocess.STDOUT
        )
    operator = OperatorProcess(process, log_path, metrics_port, liveness_port)

    def alive() -> bool:
        if process.poll() is not None:
            raise RuntimeError(
                f"ingest-operator exited with {process.returncode}:\n{operator.log()}"
            )
        try:
            url = f"http://127.0.0.1:{liveness_port}/healthz"
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(alive, timeout=timeout, message="the operator's liveness endpoint answers")
    except BaseException:
        operator.stop()
        raise
    return operator


@contextmanager
def running_operator(
    kubeconfig: str,
    log_path: Path,
    *,
    namespaces: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[OperatorProcess]:
    operator = start_operator(kubeconfig, log_path, namespaces=namespaces, env=env)
    try:
        yield operator
    finally:
        operator.stop()


# --- waiting for the operator ------------------------------------------------------

# How long a test waits for the operator to react to one change: a
# reconciliation takes tens of milliseconds; the rest is watch latency and
# headroom for a loaded two-core machine.
REACTION_SECONDS = 15.0


def wait_for_object(
    cluster: Cluster, kind: str, namespace: str, name: str, *, timeout: float = REACTION_SECONDS
) -> dict[str, Any]:
    return wait_for(
        lambda: cluster.get(kind, namespace, name),
        timeout=timeout,
        message=f"{kind} {namespace}/{name} exists",
    )


def wait_for_condition(
    cluster: Cluster,
    namespace: str,
    name: str,
    kind: str,
    *,
    status: str,
    reason: str | None = None,
    timeout: float = REACTION_SECONDS,
) -> dict[str, Any]:
    """The IngestService once its `kind` condition has `status` (and `reason`)."""

    def matches() -> dict[str, Any] | None:
        resource = cluster.get("IngestService", namespace, name)
        found = condition(resource, kind)
        if found.get("status") == status and reason in (None, found.get("reason")):
            return resource
        return None

    expected = f"{kind}={status}" + (f" ({reason})" if reason else "")
    return wait_for(matches, timeout=timeout, message=f"IngestService {name} has {expected}")


def migration_jobs(cluster: Cluster, namespace: str, instance: str) -> list[dict[str, Any]]:
    selector = f"app.kubernetes.io/instance={instance},app.kubernetes.io/component=migration"
    return cluster.list("Job", namespace, selector)


def wait_for_migration_job(
    cluster: Cluster, namespace: str, instance: str, image: str, *, other_than: str | None = None
) -> dict[str, Any]:
    """A migration Job of `image`; with `other_than`, one of another name (a new
    database brings a new Job for the same image)."""

    def job_of_image() -> dict[str, Any] | None:
        for job in migration_jobs(cluster, namespace, instance):
            if (
                job["spec"]["template"]["spec"]["containers"][0]["image"] == image
                and job["metadata"]["name"] != other_than
            ):
                return job
        return None

    return wait_for(job_of_image, timeout=REACTION_SECONDS, message=f"a migration Job for {image}")


def create_and_roll_out(
    cluster: Cluster,
    namespace: str,
    name: str,
    spec: Mapping[str, Any],
    *,
    reload: bool = True,
    **secret_overrides: dict[str, str],
) -> dict[str, Any]:
    """Create the Secrets and the IngestService, pass its migration, wait for both Deployments.

    No kubelet runs the migration Job's pod: the test reports the Job complete
    through its status subresource, as the pod would have made it. `reload`
    labels the Secrets for the operator to watch.
    """
    create_referenced_secrets(cluster, namespace, reload=reload, **secret_overrides)
    cluster.create(ingest_service_manifest(namespace, name, spec))
    job = wait_for_migration_job(cluster, namespace, name, str(spec["image"]))
    finish_job(cluster, namespace, job["metadata"]["name"], succeeded=True)
    wait_for_object(cluster, "Deployment", namespace, f"{name}-api")
    wait_for_object(cluster, "Deployment", namespace, f"{name}-worker")
    return wait_for_condition(
        cluster, namespace, name, "Progressing", status="True", reason="RollingOut"
    )


def pod_template_annotations(cluster: Cluster, namespace: str, deployment: str) -> dict[str, str]:
    found = cluster.get("Deployment", namespace, deployment) or {}
    annotations: dict[str, str] = (
        found.get("spec", {}).get("template", {}).get("metadata", {}).get("annotations", {})
    )
    return annotations


def reconciles_total(operator: OperatorProcess) -> float:
    """How many reconciliations the operator finished, whatever their result."""
    return counter_total(operator, "ingest_operator_reconciles_total")


def counter_total(operator: OperatorProcess, name: str) -> float:
    """The sum of a labelled counter's series."""
    total = 0.0
    for line in operator.metrics().splitlines():
        if line.startswith(f"{name}{{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


def triggers(operator: OperatorProcess, trigger: str) -> float:
    """How many reconciliations the operator was asked for by `trigger` (secret, requeue, ...)."""
    prefix = f'ingest_operator_reconcile_triggers_total{{trigger="{trigger}"}} '
    for line in operator.metrics().splitlines():
        if line.startswith(prefix):
            return float(line.removeprefix(prefix))
    return 0.0

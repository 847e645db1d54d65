"""Plays the kubelet (and the scheduler) for the local stack, where no
container engine runs: every pod the control plane creates in the watched
namespaces is bound to one local Node and its container's command runs as a
local process, from this checkout's virtualenv, with the environment the pod
would get (values resolved from the Secrets and ConfigMaps in the API
server, the service account's token as a kubeconfig). It reports back what a
kubelet reports: Running, Ready once the readiness probe answers, Succeeded
or Failed with the exit code, so the real Job, ReplicaSet and Deployment
controllers do the rest.

What differs from a pod, and why: all processes share loopback, so each
container port gets a free local port (PORT, METRICS_PORT and LIVENESS_PORT
follow it) and HOST is 127.0.0.1; the image is this checkout.

    uv run python hack/local_kubelet.py --namespace NS [--namespace NS2]

It writes `.state/local-kubelet/endpoints.json` (pod -> local ports),
`prometheus-targets.json` (every container port, for Prometheus's file_sd,
with the `__meta_kubernetes_*` labels Kubernetes service discovery would
give, so that a PodMonitor's relabelings apply to them as they are) and
logs of each process under `.state/local-kubelet/logs/`.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

# The operator's own naming of pod labels in Prometheus's discovery, which its
# PodMonitor relabels from.
from ingest_operator.monitoring import discovery_label

ROOT = Path(__file__).resolve().parents[1]
BIN_DIR = Path(sys.executable).parent
NODE = "local-kubelet"
PORT_VARIABLES = {"http": "PORT", "metrics": "METRICS_PORT", "health": "LIVENESS_PORT"}


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def image_entrypoint(image: str) -> list[str]:
    """What an image runs without a command: the ENTRYPOINT of the Dockerfile
    that builds it (the image's name ends like the Dockerfile's)."""
    name = image.rsplit("/", 1)[-1].split("@")[0].split(":")[0]
    for dockerfile in ROOT.glob("Dockerfile.*"):
        if name.endswith(dockerfile.suffix.lstrip(".")):
            for line in dockerfile.read_text().splitlines():
                if line.startswith("ENTRYPOINT"):
                    entrypoint: list[str] = json.loads(line.removeprefix("ENTRYPOINT"))
                    return entrypoint
    raise ValueError(f"no command, and no Dockerfile here builds the image {image}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RunningPod:
    namespace: str
    name: str
    uid: str
    process: subprocess.Popen[bytes]
    ports: dict[str, int]
    readiness_url: str | None
    restart_policy: str
    ready: bool = False
    restarts: int = 0
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    container: str = ""
    labels: dict[str, str] = field(default_factory=dict)


def scrape_targets(pods: list[RunningPod]) -> list[dict[str, Any]]:
    """One file_sd target per container port, labelled as Kubernetes discovery would."""
    return [
        {
            "targets": [f"127.0.0.1:{local}"],
            "labels": {
                "__meta_kubernetes_namespace": pod.namespace,
                "__meta_kubernetes_pod_name": pod.name,
                "__meta_kubernetes_pod_container_name": pod.container,
                "__meta_kubernetes_pod_container_port_name": port,
                "__meta_kubernetes_pod_ready": "true" if pod.ready else "false",
                **{discovery_label(key): value for key, value in pod.labels.items()},
            },
        }
        for pod in pods
        for port, local in pod.ports.items()
    ]


class LocalKubelet:
    def __init__(self, api: client.ApiClient, namespaces: list[str], state_dir: Path) -> None:
        self.api = api
        self.core = client.CoreV1Api(api)
        self.coordination = client.CoordinationV1Api(api)
        self.namespaces = namespaces
        self.state_dir = state_dir
        (state_dir / "logs").mkdir(parents=True, exist_ok=True)
        self.pods: dict[str, RunningPod] = {}
        self.last_heartbeat = 0.0

    # --- the node ------------------------------------------------------------

    def heartbeat(self) -> None:
        """Keep the Node Ready and its Lease fresh, as a kubelet does."""
        if time.monotonic() - self.last_heartbeat < 10:
            return
        self.last_heartbeat = time.monotonic()
        ready = {
            "type": "Ready",
            "status": "True",
            "reason": "KubeletReady",
            "message": "local processes",
            "lastHeartbeatTime": now(),
            "lastTransitionTime": now(),
        }
        try:
            self.core.read_node(NODE)
        except ApiException as error:
            if error.status != 404:
                raise
            self.core.create_node(
                {"metadata": {"name": NODE, "labels": {"kubernetes.io/hostname": NODE}}}
            )
        self.core.patch_node_status(NODE, {"status": {"conditions": [ready]}})
        lease = {
            "metadata": {"name": NODE, "namespace": "kube-node-lease"},
            "spec": {
                "holderIdentity": NODE,
                "leaseDurationSeconds": 40,
                "renewTime": now() + ".000000",
            },
        }
        lease["spec"]["renewTime"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        try:
            self.coordination.replace_namespaced_lease(
                NODE, "kube-node-lease", self._with_version(lease)
            )
        except ApiException as error:
            if error.status != 404:
                raise
            self.coordination.create_namespaced_lease("kube-node-lease", lease)

    def _with_version(self, lease: dict[str, Any]) -> dict[str, Any]:
        current = self.coordination.read_namespaced_lease(NODE, "kube-node-lease")
        lease["metadata"]["resourceVersion"] = current.metadata.resource_version
        return lease

    # --- pods ---------------------------------------------------------------

    def sync(self) -> None:
        self.heartbeat()
        seen: set[str] = set()
        for namespace in self.namespaces:
            for pod in self.core.list_namespaced_pod(namespace).items:
                uid = pod.metadata.uid
                seen.add(uid)
                if pod.metadata.deletion_timestamp is not None:
                    self._stop(uid, delete_from=pod)
                elif uid not in self.pods and pod.status.phase not in ("Succeeded", "Failed"):
                    # New, or left running by a kubelet that has since stopped:
                    # as a restarted kubelet does, (re)start its container.
                    self._start_or_fail(pod)
                elif uid in self.pods:
                    self._observe(self.pods[uid])
        for uid in list(self.pods):
            if uid not in seen:
                self._stop(uid)
        self._write_endpoints()

    def _start_or_fail(self, pod: Any) -> None:
        try:
            self._start(pod)
        except (ValueError, KeyError, ApiException) as error:
            # As a kubelet would: the pod fails with a reason; the loop goes on.
            print(f"cannot start {pod.metadata.namespace}/{pod.metadata.name}: {error}", flush=True)
            self._report(
                pod.metadata.namespace, pod.metadata.name, phase="Pending", reason=str(error)
            )

    def _start(self, pod: Any) -> None:
        namespace, name = pod.metadata.namespace, pod.metadata.name
        if pod.spec.node_name is None:
            self._bind(namespace, name)
        container = pod.spec.containers[0]
        env = self._environment(pod, container)
        ports: dict[str, int] = {}
        for port in container.ports or []:
            local = free_port()
            ports[port.name or str(port.container_port)] = local
            variable = PORT_VARIABLES.get(port.name or "")
            if variable:
                env[variable] = str(local)
        env["HOST"] = "127.0.0.1"
        command = [
            *(container.command or image_entrypoint(container.image)),
            *(container.args or []),
        ]
        executable = BIN_DIR / command[0]
        if not executable.exists():
            self._report(
                namespace, name, phase="Failed", reason=f"{command[0]} is not a console script"
            )
            return
        log = (self.state_dir / "logs" / f"{namespace}_{name}.log").open("ab")
        process = subprocess.Popen([str(executable), *command[1:]], env=env, stdout=log, stderr=log)
        log.close()
        readiness = None
        probe = container.readiness_probe
        if probe is not None and probe.http_get is not None:
            port_ref = probe.http_get.port
            local = ports.get(str(port_ref)) or next(iter(ports.values()), None)
            if local is not None:
                readiness = f"http://127.0.0.1:{local}{probe.http_get.path or '/'}"
        running = RunningPod(
            namespace,
            name,
            pod.metadata.uid,
            process,
            ports,
            readiness,
            pod.spec.restart_policy or "Always",
            command=command,
            env=env,
            container=container.name,
            labels=dict(pod.metadata.labels or {}),
        )
        self.pods[pod.metadata.uid] = running
        print(f"started {namespace}/{name}: {' '.join(command)} ports {ports}", flush=True)
        self._report(namespace, name, phase="Running", ready=readiness is None)
        running.ready = readiness is None

    def _bind(self, namespace: str, name: str) -> None:
        body = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": name},
            "target": {"apiVersion": "v1", "kind": "Node", "name": NODE},
        }
        # The client fails to read the (empty) answer; the binding is made.
        with contextlib.suppress(ValueError):
            self.core.create_namespaced_pod_binding(name, namespace, body)

    def _environment(self, pod: Any, container: Any) -> dict[str, str]:
        env: dict[str, str] = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", "/"),
        }
        namespace = pod.metadata.namespace
        for source in container.env_from or []:
            if source.config_map_ref is not None:
                env.update(self._config_map(namespace, source.config_map_ref.name))
            if source.secret_ref is not None:
                env.update(self._secret(namespace, source.secret_ref.name))
        for variable in container.env or []:
            value = self._env_value(pod, variable)
            if value is not None:
                env[variable.name] = value
        if pod.spec.service_account_name and pod.spec.automount_service_account_token is not False:
            env["KUBECONFIG"] = str(self._service_account_kubeconfig(pod))
        return env

    def _env_value(self, pod: Any, variable: Any) -> str | None:
        if variable.value is not None:
            return str(variable.value)
        source = variable.value_from
        if source is None:
            return None
        namespace = pod.metadata.namespace
        if source.config_map_key_ref is not None:
            ref = source.config_map_key_ref
            return self._config_map(namespace, ref.name).get(ref.key)
        if source.secret_key_ref is not None:
            ref = source.secret_key_ref
            return self._secret(namespace, ref.name).get(ref.key)
        if source.field_ref is not None:
            path = source.field_ref.field_path
            return {
                "metadata.name": pod.metadata.name,
                "metadata.namespace": namespace,
                "status.podIP": "127.0.0.1",
                "spec.nodeName": NODE,
            }.get(path)
        return None

    def _config_map(self, namespace: str, name: str) -> dict[str, str]:
        return dict(self.core.read_namespaced_config_map(name, namespace).data or {})

    def _secret(self, namespace: str, name: str) -> dict[str, str]:
        data = self.core.read_namespaced_secret(name, namespace).data or {}
        return {key: base64.b64decode(value).decode() for key, value in data.items()}

    def _service_account_kubeconfig(self, pod: Any) -> Path:
        """The pod's service-account identity, as a kubeconfig: the process
        gets exactly the RBAC its ServiceAccount has, no more."""
        namespace, account = pod.metadata.namespace, pod.spec.service_account_name
        request = {"spec": {"audiences": [], "expirationSeconds": 86400}}
        answer = self.core.create_namespaced_service_account_token(account, namespace, request)
        cluster = self.api.configuration
        ca = Path(cluster.ssl_ca_cert).read_bytes() if cluster.ssl_ca_cert else b""
        kubeconfig = {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": "pod",
            "clusters": [
                {
                    "name": "local",
                    "cluster": {
                        "server": cluster.host,
                        "certificate-authority-data": base64.b64encode(ca).decode(),
                    },
                }
            ],
            "users": [{"name": account, "user": {"token": answer.status.token}}],
            "contexts": [
                {
                    "name": "pod",
                    "context": {"cluster": "local", "user": account, "namespace": namespace},
                }
            ],
        }
        path = self.state_dir / f"{namespace}_{pod.metadata.name}.kubeconfig"
        path.write_text(yaml.safe_dump(kubeconfig))
        path.chmod(0o600)
        return path

    def _observe(self, running: RunningPod) -> None:
        code = running.process.poll()
        if code is not None:
            if running.restart_policy == "Always":
                running.restarts += 1
                print(f"restarting {running.namespace}/{running.name} (exit {code})", flush=True)
                log = (self.state_dir / "logs" / f"{running.namespace}_{running.name}.log").open(
                    "ab"
                )
                running.process = subprocess.Popen(
                    [str(BIN_DIR / running.command[0]), *running.command[1:]],
                    env=running.env,
                    stdout=log,
                    stderr=log,
                )
                log.close()
                running.ready = False
                self._report(
                    running.namespace,
                    running.name,
                    phase="Running",
                    ready=False,
                    restarts=running.restarts,
                )
                time.sleep(min(running.restarts, 10))
                return
            phase = "Succeeded" if code == 0 else "Failed"
            print(f"{running.namespace}/{running.name} exited {code}: {phase}", flush=True)
            self._report(running.namespace, running.name, phase=phase, exit_code=code)
            del self.pods[running.uid]
            return
        if not running.ready and running.readiness_url and self._probe(running.readiness_url):
            running.ready = True
            print(f"{running.namespace}/{running.name} is ready", flush=True)
            self._report(
                running.namespace,
                running.name,
                phase="Running",
                ready=True,
                restarts=running.restarts,
            )

    @staticmethod
    def _probe(url: str) -> bool:
        try:
            return httpx.get(url, timeout=2).status_code < 400
        except httpx.TransportError:
            return False

    def _report(
        self,
        namespace: str,
        name: str,
        *,
        phase: str,
        ready: bool = False,
        exit_code: int | None = None,
        restarts: int = 0,
        reason: str | None = None,
    ) -> None:
        ready_status = "True" if ready and phase == "Running" else "False"
        if exit_code is not None:
            state = {
                "terminated": {
                    "exitCode": exit_code,
                    "startedAt": now(),
                    "finishedAt": now(),
                    "reason": "Completed" if exit_code == 0 else "Error",
                }
            }
        else:
            state = {"running": {"startedAt": now()}}
        status = {
            "phase": phase,
            "podIP": "127.0.0.1",
            "podIPs": [{"ip": "127.0.0.1"}],
            "hostIP": "127.0.0.1",
            "startTime": now(),
            "message": reason,
            "conditions": [
                {"type": "PodScheduled", "status": "True", "lastTransitionTime": now()},
                {"type": "Initialized", "status": "True", "lastTransitionTime": now()},
                {"type": "ContainersReady", "status": ready_status, "lastTransitionTime": now()},
                {"type": "Ready", "status": ready_status, "lastTransitionTime": now()},
            ],
        }
        pod = self.core.read_namespaced_pod(name, namespace)
        container = pod.spec.containers[0]
        status["containerStatuses"] = [
            {
                "name": container.name,
                "image": container.image,
                "imageID": "",
                "ready": ready_status == "True",
                "started": exit_code is None,
                "restartCount": restarts,
                "state": state,
            }
        ]
        try:
            self.core.patch_namespaced_pod_status(name, namespace, {"status": status})
        except ApiException as error:
            if error.status != 404:
                raise

    def _stop(self, uid: str, delete_from: Any | None = None) -> None:
        running = self.pods.pop(uid, None)
        if running is not None:
            print(f"stopping {running.namespace}/{running.name}", flush=True)
            running.process.send_signal(signal.SIGTERM)
            try:
                running.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                running.process.kill()
        if delete_from is not None:
            # What a kubelet does once the containers are gone: let the pod go.
            try:
                self.core.delete_namespaced_pod(
                    delete_from.metadata.name,
                    delete_from.metadata.namespace,
                    grace_period_seconds=0,
                )
            except ApiException as error:
                if error.status != 404:
                    raise

    def _write_endpoints(self) -> None:
        endpoints = {
            f"{pod.namespace}/{pod.name}": {"ports": pod.ports, "ready": pod.ready}
            for pod in self.pods.values()
        }
        self._write_atomically("endpoints.json", endpoints)
        self._write_atomically("prometheus-targets.json", scrape_targets(list(self.pods.values())))

    def _write_atomically(self, name: str, content: Any) -> None:
        target = self.state_dir / name
        target.with_suffix(".tmp").write_text(json.dumps(content, indent=1))
        target.with_suffix(".tmp").replace(target)

    def stop_all(self, grace_seconds: float = 6.0) -> None:
        """Stop every process at once: SIGTERM, then SIGKILL after the grace
        period, so that whoever stops this kubelet can rely on a short wait."""
        running = list(self.pods.values())
        self.pods.clear()
        for pod in running:
            pod.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for pod in running:
            try:
                pod.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pod.process.kill()
                pod.process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--namespace", action="append", required=True)
    parser.add_argument("--kubeconfig", default=os.environ.get("KUBECONFIG"))
    parser.add_argument("--state-dir", default=str(ROOT / ".state" / "local-kubelet"))
    args = parser.parse_args()
    api = config.new_client_from_config(config_file=args.kubeconfig)
    kubelet = LocalKubelet(api, args.namespace, Path(args.state_dir))
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"local kubelet running pods of {', '.join(args.namespace)}", flush=True)
    try:
        while not stopping:
            try:
                kubelet.sync()
            except ApiException as error:
                print(f"api error: {error.status} {error.reason}", flush=True)
            time.sleep(1)
    finally:
        kubelet.stop_all()


if __name__ == "__main__":
    main()

"""Plays the parts of a kubelet the operator tests need, since no kubelet runs here.

Kubelet-less envtest tests set a workload's status themselves, and so do
these. A Job is finished by writing its status subresource (the Job
controller leaves a finished Job alone). A Deployment's status cannot be
written that way here: the real Deployment and ReplicaSet controllers run
and recompute it from the pods at once, erasing what a test wrote. So the
tests go one level lower and do what a kubelet does: bind the pods to a
Node (a fake one, kept healthy by a fresh Lease) and report them Running
and Ready through the pods' status subresource. The real controllers then
count them available, exactly as in a cluster.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from tests.support.cluster import ApiError, Cluster, wait_for

NODE_LEASE_NAMESPACE = "kube-node-lease"
JOB_STATUS_ATTEMPTS = 5


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@contextmanager
def fake_node(cluster: Cluster, name: str) -> Iterator[str]:
    """A Node that reports Ready, for the duration of a test.

    The node lifecycle controller marks a node's pods NotReady once it stops
    hearing from it (40 s by default): the Lease and the heartbeat are fresh
    when the node is made, which covers a test of a few seconds.
    """
    cluster.create({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}})
    now = _now()
    ready = {
        "type": "Ready",
        "status": "True",
        "reason": "KubeletReady",
        "message": "a test plays the kubelet",
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
    }
    cluster.patch("Node", None, name, {"status": {"conditions": [ready]}}, subresource="status")
    cluster.create(
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": NODE_LEASE_NAMESPACE},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": _micro_now()},
        }
    )
    try:
        yield name
    finally:
        cluster.delete("Lease", NODE_LEASE_NAMESPACE, name)
        cluster.delete("Node", None, name)


def run_deployment_pods(cluster: Cluster, namespace: str, name: str, node: str) -> None:
    """Bind the Deployment's current pods to `node` and report them Running and Ready."""
    deployment = cluster.get("Deployment", namespace, name)
    assert deployment is not None, f"Deployment {name} does not exist"
    desired = int(deployment["spec"].get("replicas", 1))
    selector = ",".join(
        f"{k}={v}" for k, v in deployment["spec"]["selector"]["matchLabels"].items()
    )
    template_hash = _newest_template_hash(cluster, namespace, name)

    def current_pods() -> list[dict[str, Any]] | None:
        pods = [
            pod
            for pod in cluster.list("Pod", namespace, selector)
            if pod["metadata"]["labels"].get("pod-template-hash") == template_hash
            and not pod["metadata"].get("deletionTimestamp")
        ]
        return pods if len(pods) >= desired else None

    for pod in wait_for(current_pods, timeout=30, message=f"{desired} pods of {name}"):
        _run_pod(cluster, pod, node)


def _newest_template_hash(cluster: Cluster, namespace: str, deployment: str) -> str:
    def newest() -> str | None:
        owned = [
            replica_set
            for replica_set in cluster.list("ReplicaSet", namespace)
            if any(
                ref.get("name") == deployment
                for ref in replica_set["metadata"].get("ownerReferences", [])
            )
        ]
        if not owned:
            return None
        latest = max(
            owned,
            key=lambda rs: int(
                rs["metadata"]["annotations"].get("deployment.kubernetes.io/revision", 0)
            ),
        )
        return str(latest["metadata"]["labels"]["pod-template-hash"])

    # The Deployment controller can lag behind on a loaded machine.
    return wait_for(newest, timeout=30, message=f"a ReplicaSet of {deployment}")


def _run_pod(cluster: Cluster, pod: dict[str, Any], node: str) -> None:
    metadata = pod["metadata"]
    namespace, name = metadata["namespace"], metadata["name"]
    if not pod["spec"].get("nodeName"):
        cluster.request(
            "POST",
            f"/api/v1/namespaces/{namespace}/pods/{name}/binding",
            body={
                "apiVersion": "v1",
                "kind": "Binding",
                "metadata": {"name": name},
                "target": {"apiVersion": "v1", "kind": "Node", "name": node},
            },
        )
    now = _now()
    status = {
        "phase": "Running",
        "startTime": now,
        "hostIP": "127.0.0.1",
        "podIP": "10.244.0.10",
        "conditions": [
            {"type": kind, "status": "True", "lastTransitionTime": now}
            for kind in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
        ],
        "containerStatuses": [
            {
                "name": container["name"],
                "image": container["image"],
                "imageID": "",
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
            }
            for container in pod["spec"]["containers"]
        ],
    }
    cluster.patch("Pod", namespace, name, {"status": status}, subresource="status")


def finish_job(cluster: Cluster, namespace: str, name: str, *, succeeded: bool) -> None:
    """Report the Job complete or failed, as its pods would have made it.

    The Job controller may write the Job's first status (its start time) at
    the same moment; the API server then refuses the stale start time, and a
    second attempt, reading afresh, goes through.
    """
    for attempt in range(JOB_STATUS_ATTEMPTS):
        try:
            _write_job_end(cluster, namespace, name, succeeded=succeeded)
            return
        except ApiError as error:
            if error.status != 422 or attempt == JOB_STATUS_ATTEMPTS - 1:
                raise
            time.sleep(0.2)


def _write_job_end(cluster: Cluster, namespace: str, name: str, *, succeeded: bool) -> None:
    """The Job's terminal status; the API server requires each terminal condition to
    follow its prerequisite (SuccessCriteriaMet before Complete, FailureTarget before
    Failed), with the counts and times that go with it."""
    now = _now()
    job = cluster.get("Job", namespace, name) or {}
    # The Job controller may not have recorded the start yet; a finished Job needs one.
    started = job.get("status", {}).get("startTime") or now

    def condition(kind: str, reason: str, message: str) -> dict[str, str]:
        return {
            "type": kind,
            "status": "True",
            "reason": reason,
            "message": message,
            "lastProbeTime": now,
            "lastTransitionTime": now,
        }

    if succeeded:
        message = "Reached expected number of succeeded pods"
        status: dict[str, Any] = {
            "active": 0,
            "ready": 0,
            "succeeded": 1,
            "startTime": started,
            "completionTime": now,
            "conditions": [
                condition("SuccessCriteriaMet", "CompletionsReached", message),
                condition("Complete", "CompletionsReached", message),
            ],
        }
    else:
        message = "Job has reached the specified backoff limit"
        status = {
            "active": 0,
            "ready": 0,
            "failed": 3,
            "startTime": started,
            "conditions": [
                condition("FailureTarget", "BackoffLimitExceeded", message),
                condition("Failed", "BackoffLimitExceeded", message),
            ],
        }
    cluster.patch("Job", namespace, name, {"status": status}, subresource="status")

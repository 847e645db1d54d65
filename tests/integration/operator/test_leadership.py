"""Two replicas, one Lease: only the holder reconciles; a killed leader is replaced
within the lease's duration, a stopped one hands over at once, and one that loses
its Lease stops writing by exiting."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.cluster import Cluster, stays, wait_for
from tests.support.ingest_service_builders import minimal_spec
from tests.support.operator import (
    REACTION_SECONDS,
    OperatorProcess,
    create_and_roll_out,
    reconciles_total,
    start_operator,
)

NAME = "shop"
LEASE = "ingest-operator-test"
# The defaults of config.py: controller-runtime's timings.
LEASE_SECONDS = 15


def holder(cluster: Cluster, namespace: str) -> str:
    lease = cluster.get("Lease", namespace, LEASE)
    return str(((lease or {}).get("spec") or {}).get("holderIdentity") or "")


def wait_until_leading(cluster: Cluster, namespace: str, pod_name: str) -> None:
    wait_for(
        lambda: holder(cluster, namespace).startswith(f"{pod_name}_"),
        timeout=REACTION_SECONDS,
        message=f"{pod_name} holds the Lease",
    )


def is_leader(operator: OperatorProcess) -> bool:
    return "ingest_operator_leader 1.0" in operator.metrics()


@pytest.fixture
def replicas(
    kubeconfig: str, namespace: str, operator_log: Path, ingest_crd: None
) -> Iterator[Callable[..., OperatorProcess]]:
    """Start operator replicas of one Deployment: same namespaces, one Lease."""
    with ExitStack() as stack:

        def start(pod_name: str, **settings: str) -> OperatorProcess:
            env = {
                "LEADER_ELECTION": "true",
                "LEADER_ELECTION_ID": LEASE,
                "POD_NAMESPACE": namespace,
                "POD_NAME": pod_name,
                **settings,
            }
            process = start_operator(kubeconfig, operator_log, namespaces=[namespace], env=env)
            stack.callback(process.stop)
            return process

        yield start


def test_only_the_leader_reconciles_and_a_killed_leader_is_replaced(
    cluster: Cluster, namespace: str, replicas: Callable[..., OperatorProcess]
) -> None:
    first = replicas("operator-a")
    wait_until_leading(cluster, namespace, "operator-a")
    second = replicas("operator-b")
    create_and_roll_out(cluster, namespace, NAME, minimal_spec())
    assert reconciles_total(first) > 0
    assert reconciles_total(second) == 0
    assert not is_leader(second)

    first.kill()  # SIGKILL: no release, as after a node failure
    killed = time.monotonic()
    cluster.delete("ConfigMap", namespace, f"{NAME}-config")

    wait_for(
        lambda: cluster.get("ConfigMap", namespace, f"{NAME}-config") is not None,
        timeout=LEASE_SECONDS + 2 * REACTION_SECONDS,
        message="the second replica takes over and restores the ConfigMap",
    )
    print(f"failover after SIGKILL: drift restored in {time.monotonic() - killed:.1f} s")
    assert holder(cluster, namespace).startswith("operator-b_")
    assert is_leader(second)


def test_a_leader_stopped_gracefully_releases_the_lease_for_a_prompt_handover(
    cluster: Cluster, namespace: str, replicas: Callable[..., OperatorProcess]
) -> None:
    # A lease far longer than the wait below: only a release explains a handover.
    slow = {"LEASE_DURATION_SECONDS": "60", "RENEW_DEADLINE_SECONDS": "20"}
    first = replicas("operator-a", **slow)
    wait_until_leading(cluster, namespace, "operator-a")
    second = replicas("operator-b", **slow)

    first.stop()  # SIGTERM, as a rollout or a drain sends

    assert first.process.returncode == 0
    wait_until_leading(cluster, namespace, "operator-b")
    wait_for(lambda: is_leader(second), timeout=REACTION_SECONDS, message="it leads")


def test_a_leader_that_cannot_renew_its_lease_exits_instead_of_writing_on(
    cluster: Cluster, namespace: str, replicas: Callable[..., OperatorProcess]
) -> None:
    fast = {
        "LEASE_DURATION_SECONDS": "6",
        "RENEW_DEADLINE_SECONDS": "4",
        "RETRY_PERIOD_SECONDS": "1",
    }
    leader = replicas("operator-a", **fast)
    wait_until_leading(cluster, namespace, "operator-a")

    # Another holder appears, as after a partition during which the lease ran out.
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    taken = {"holderIdentity": "elsewhere", "renewTime": now, "acquireTime": now}
    cluster.patch("Lease", namespace, LEASE, {"spec": taken})

    wait_for(
        lambda: leader.process.poll() is not None,
        timeout=4 + REACTION_SECONDS,
        message="the replica that lost its Lease exits",
    )
    assert leader.process.returncode == 1
    assert any("lost Lease" in message for message in leader.log_messages())
    stays(lambda: holder(cluster, namespace) == "elsewhere", duration=2, message="lease taken")

"""Fixtures of the operator tests: the CRD installed once, a REST client of the
local API server, and the operator itself running for one test's namespace.

Each test gets its own namespace (tests/conftest.py) and its own operator
process watching only that namespace, so tests cannot see each other's
resources; the operator's log is attached to the test's report.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as kube_client

from tests.support.cluster import Cluster
from tests.support.operator import OperatorProcess, install_crd, running_operator


@pytest.fixture(scope="session")
def cluster(kube_api: kube_client.ApiClient) -> Cluster:
    return Cluster(kube_api)


@pytest.fixture(scope="session")
def ingest_crd(cluster: Cluster) -> None:
    install_crd(cluster)


@pytest.fixture
def operator_log(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """Where the test's operators log; shown with the test's report when it fails."""
    path = tmp_path / "operator.log"
    path.touch()
    yield path
    request.node.add_report_section("teardown", "operator log", path.read_text(errors="replace"))


@pytest.fixture
def operator(
    ingest_crd: None, kubeconfig: str, namespace: str, operator_log: Path
) -> Iterator[OperatorProcess]:
    """`ingest-operator` watching this test's namespace, as the cluster's admin."""
    with running_operator(kubeconfig, operator_log, namespaces=[namespace]) as process:
        yield process

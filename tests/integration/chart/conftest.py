"""Fixtures of the chart's install tests: helm and a REST client on the local control
plane, a release of this test's own, and the cluster-wide IngestService CRD handed over.

Each test installs into its own namespace (tests/conftest.py) under a release
name of its own, so its ClusterRole and ClusterRoleBinding are its own too;
the release is uninstalled afterwards, since deleting the namespace would
leave those cluster-scoped objects behind.

The CRD is the exception: there is one per cluster, and the keep policy
leaves it in place after every uninstall (and the operator tests apply it
with kubectl). Helm takes over an existing object whose meta.helm.sh
annotations name the installing release, which is also how a user brings a
CRD applied by hand under the chart; the fixture does that before each test
and afterwards puts the CRD back as crds/ has it, so neither an upgrade
test's extra field nor a stale owner reaches whatever runs next.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client as kube_client

from tests.conftest import unique_name
from tests.support.chart import Helm, Release
from tests.support.cluster import Cluster, object_path
from tests.support.crd_schema import load_crd
from tests.support.local_stack import Component

CRD_KIND = "CustomResourceDefinition"
CRD_NAME: str = load_crd()["metadata"]["name"]


@pytest.fixture(scope="session")
def cluster(kube_api: kube_client.ApiClient) -> Cluster:
    return Cluster(kube_api)


@pytest.fixture(scope="session")
def helm(kube_service: Component) -> Helm:
    settings = kube_service.settings
    return Helm(Path(settings["HELM"]), settings["KUBECONFIG"])


@pytest.fixture
def release(helm: Helm, cluster: Cluster, namespace: str) -> Iterator[Release]:
    """A release name for this test in its namespace; uninstalled afterwards if installed."""
    found = Release(unique_name("op"), namespace)
    hand_crd_to(cluster, found)
    yield found
    if any(r["name"] == found.name for r in helm.releases(namespace)):
        helm.uninstall(found.name, namespace)
    restore_crd(cluster)


def hand_crd_to(cluster: Cluster, release: Release) -> None:
    """Mark an existing IngestService CRD as the release's, so `helm install` adopts it."""
    if cluster.get(CRD_KIND, None, CRD_NAME) is None:
        return
    cluster.patch(
        CRD_KIND,
        None,
        CRD_NAME,
        {
            "metadata": {
                "labels": {"app.kubernetes.io/managed-by": "Helm"},
                "annotations": {
                    "meta.helm.sh/release-name": release.name,
                    "meta.helm.sh/release-namespace": release.namespace,
                },
            }
        },
    )


def restore_crd(cluster: Cluster) -> None:
    """Put the CRD back as crds/ has it, schema, labels and annotations alike.

    Without Helm's ownership marks it looks applied by hand again, so whatever
    installs the chart next on this control plane (another test, hack/e2e.sh)
    finds no stale release named on it.
    """
    stored = cluster.get(CRD_KIND, None, CRD_NAME)
    if stored is None:
        return
    source = load_crd()
    stored["spec"] = source["spec"]
    stored["metadata"]["labels"] = source["metadata"].get("labels", {})
    stored["metadata"]["annotations"] = source["metadata"].get("annotations", {})
    cluster.request("PUT", object_path(CRD_KIND, None, CRD_NAME), body=stored)

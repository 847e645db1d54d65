"""CRDs of projects the operator writes objects for, from their own Go modules:
KEDA's (at hack/versions.env's KEDA_VERSION) and prometheus-operator's.

Neither runs here: the CRDs alone let the real API server validate the
ScaledObjects, TriggerAuthentications and PodMonitors the operator writes
against their published schemas. The modules come through the go command's
module cache, outside the clone, so a fresh clone downloads nothing twice.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.support.chart import VERSIONS_FILE
from tests.support.cluster import Cluster, wait_for, wait_until_established
from tests.support.local_stack import parse_env

KEDA_MODULE = "github.com/kedacore/keda/v2"
KEDA_CRD_FILES = ("keda.sh_scaledobjects.yaml", "keda.sh_triggerauthentications.yaml")
# The module proxy serves this release of prometheus-operator's main module,
# which holds the CRDs as YAML (its newer api submodules hold Go types only).
PROMETHEUS_OPERATOR_MODULE = "github.com/prometheus-operator/prometheus-operator"
PROMETHEUS_OPERATOR_VERSION = "v0.85.0"


def module_dir(module: str, version: str) -> Path:
    downloaded = subprocess.run(
        ["go", "mod", "download", "-json", f"{module}@{version}"],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path("/"),
    )
    return Path(json.loads(downloaded.stdout)["Dir"])


def keda_crds() -> list[dict[str, Any]]:
    version = parse_env(VERSIONS_FILE.read_text())["KEDA_VERSION"]
    bases = module_dir(KEDA_MODULE, version) / "config" / "crd" / "bases"
    return [yaml.safe_load((bases / name).read_text()) for name in KEDA_CRD_FILES]


def prometheus_operator_crd(plural: str) -> dict[str, Any]:
    """One of prometheus-operator's CRDs: podmonitors, servicemonitors, prometheusrules, ..."""
    crds = module_dir(PROMETHEUS_OPERATOR_MODULE, PROMETHEUS_OPERATOR_VERSION) / "example"
    path = crds / "prometheus-operator-crd" / f"monitoring.coreos.com_{plural}.yaml"
    # The file opens with `---`: the first document is empty.
    (crd,) = [document for document in yaml.safe_load_all(path.read_text()) if document]
    return dict(crd)


@contextlib.contextmanager
def installed(cluster: Cluster, crds: list[dict[str, Any]]) -> Iterator[None]:
    """The CRDs installed for the block, removed after it (other tests run without them)."""
    install(cluster, crds)
    try:
        yield
    finally:
        uninstall(cluster, crds)


def install(cluster: Cluster, crds: list[dict[str, Any]]) -> None:
    for crd in crds:
        cluster.apply(crd)
    for crd in crds:
        wait_until_established(cluster, crd["metadata"]["name"])


def uninstall(cluster: Cluster, crds: list[dict[str, Any]]) -> None:
    for crd in crds:
        cluster.delete("CustomResourceDefinition", None, crd["metadata"]["name"])
    for crd in crds:
        name = crd["metadata"]["name"]
        wait_for(
            lambda name=name: cluster.get("CustomResourceDefinition", None, name) is None,
            timeout=60,
            message=f"{name} is gone",
        )

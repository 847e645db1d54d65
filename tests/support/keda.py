"""KEDA's CRDs, from KEDA's own Go module at hack/versions.env's KEDA_VERSION.

No KEDA runs here: the CRDs alone let the real API server validate the
ScaledObjects and TriggerAuthentications the operator writes against KEDA's
published schemas. The module comes through the go command's module cache,
outside the clone, so a fresh clone downloads nothing twice.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.support.chart import VERSIONS_FILE
from tests.support.cluster import Cluster, wait_for, wait_until_established
from tests.support.local_stack import parse_env

MODULE = "github.com/kedacore/keda/v2"
CRD_FILES = ("keda.sh_scaledobjects.yaml", "keda.sh_triggerauthentications.yaml")


def keda_crds() -> list[dict[str, Any]]:
    version = parse_env(VERSIONS_FILE.read_text())["KEDA_VERSION"]
    downloaded = subprocess.run(
        ["go", "mod", "download", "-json", f"{MODULE}@{version}"],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=Path("/"),
    )
    module_dir = Path(json.loads(downloaded.stdout)["Dir"])
    return [
        yaml.safe_load((module_dir / "config" / "crd" / "bases" / name).read_text())
        for name in CRD_FILES
    ]


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

"""`helm upgrade` upgrades the IngestService CRD, which a chart's crds/ folder never would.

The next chart version is simulated by a copy of the chart whose CRD gains
a property. The proof that the API server serves the new schema is that an
IngestService keeps the new field: a structural schema prunes every field
it does not know.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from tests.support.chart import CHART_CRD_DIR, CHART_DIR, Helm, Release
from tests.support.cluster import Cluster, wait_for
from tests.support.crd_schema import CRD_PATH, load_crd, root_schema
from tests.support.ingest_service_builders import minimal_spec
from tests.support.operator import ingest_service_manifest

CRD_NAME = load_crd()["metadata"]["name"]
NEW_FIELD = "upgradeProbe"
# The API server rebuilds its handler for the resource after a CRD update.
SCHEMA_SECONDS = 30


def next_chart_version(directory: Path) -> Path:
    """A copy of the chart whose CRD has one more optional spec field, as a new version."""
    chart = directory / "ingest-operator"
    shutil.copytree(CHART_DIR, chart)
    crd_file = chart / CHART_CRD_DIR.relative_to(CHART_DIR) / CRD_PATH.name
    crd = yaml.safe_load(crd_file.read_text())
    root_schema(crd)["properties"]["spec"]["properties"][NEW_FIELD] = {
        "type": "string",
        "description": "A field the next chart version adds.",
    }
    crd_file.write_text(yaml.safe_dump(crd))
    metadata = yaml.safe_load((chart / "Chart.yaml").read_text())
    metadata["version"] = "0.1.1-next"
    (chart / "Chart.yaml").write_text(yaml.safe_dump(metadata))
    return chart


def spec_properties(cluster: Cluster) -> dict[str, Any]:
    stored = cluster.get("CustomResourceDefinition", None, CRD_NAME)
    assert stored is not None
    properties: dict[str, Any] = root_schema(stored)["properties"]["spec"]["properties"]
    return properties


def test_upgrade_adds_the_new_crd_field_and_rollback_removes_it(
    helm: Helm, cluster: Cluster, release: Release, tmp_path: Path
) -> None:
    helm.install(release.name, release.namespace)
    assert NEW_FIELD not in spec_properties(cluster)

    helm.upgrade(
        release.name, release.namespace, {"logLevel": "debug"}, chart=next_chart_version(tmp_path)
    )

    assert spec_properties(cluster)[NEW_FIELD]["type"] == "string"
    stored_crd = cluster.get("CustomResourceDefinition", None, CRD_NAME)
    assert stored_crd is not None
    assert stored_crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    # Ordinary objects upgrade alongside.
    deployment = cluster.get("Deployment", release.namespace, release.fullname)
    assert deployment is not None
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "LOG_LEVEL", "value": "debug"} in env

    # The API server serves the new schema: the field is stored, not pruned.
    def kept_new_field(name: str) -> bool:
        spec = {**minimal_spec(), NEW_FIELD: "kept"}
        cluster.create(ingest_service_manifest(release.namespace, name, spec))
        stored = cluster.get("IngestService", release.namespace, name) or {}
        kept: bool = stored.get("spec", {}).get(NEW_FIELD) == "kept"
        cluster.delete("IngestService", release.namespace, name)
        return kept

    attempts = iter(range(1000))
    wait_for(
        lambda: kept_new_field(f"probe-{next(attempts)}"),
        timeout=SCHEMA_SECONDS,
        interval=0.5,
        message=f"an IngestService keeps spec.{NEW_FIELD} after the upgrade",
    )

    # Back to the first revision: the three-way merge takes the field out again.
    helm.run("rollback", release.name, "1", "-n", release.namespace)
    assert NEW_FIELD not in spec_properties(cluster)

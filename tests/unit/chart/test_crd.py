"""The chart installs the IngestService CRD of crds/, unchanged, in a way `helm upgrade` upgrades.

crds/ is the one source of the schema; the chart carries a byte-for-byte
copy under files/crds/ (a chart cannot read outside its folder) and renders it as
a template, because Helm never upgrades what sits in a chart's crds/ folder.
"""

from __future__ import annotations

from tests.support.chart import CHART_CRD_DIR, CHART_DIR, Helm, Manifest, of_kind, one
from tests.support.crd_schema import CRD_PATH, load_crd

CRDS_DIR = CRD_PATH.parent


def test_the_charts_copy_is_byte_for_byte_the_crd_in_crds() -> None:
    copy = CHART_CRD_DIR / CRD_PATH.name
    assert copy.read_bytes() == CRD_PATH.read_bytes(), (
        f"{copy} differs from {CRD_PATH}; after changing the CRD run: cp {CRD_PATH} {copy}"
    )


def test_the_chart_carries_every_crd_of_crds_and_nothing_else() -> None:
    assert sorted(p.name for p in CHART_CRD_DIR.glob("*.yaml")) == sorted(
        p.name for p in CRDS_DIR.glob("*.yaml")
    )


def test_the_crd_is_a_template_not_a_file_helm_installs_once() -> None:
    # Helm installs a chart's crds/ folder on first install and never upgrades it.
    assert not (CHART_DIR / "crds").exists()
    assert (CHART_DIR / "templates" / "crds.yaml").is_file()


def test_the_rendered_crd_is_the_one_in_crds(default_manifests: list[Manifest]) -> None:
    rendered = one(default_manifests, "CustomResourceDefinition")
    source = load_crd()
    assert rendered["apiVersion"] == source["apiVersion"]
    assert rendered["metadata"]["name"] == source["metadata"]["name"]
    assert rendered["spec"] == source["spec"]
    assert source["metadata"]["labels"].items() <= rendered["metadata"]["labels"].items()


def test_uninstall_keeps_the_crd_and_so_every_ingest_service(
    default_manifests: list[Manifest],
) -> None:
    rendered = one(default_manifests, "CustomResourceDefinition")
    assert rendered["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"


def test_crds_install_false_leaves_the_crd_to_someone_else(helm: Helm) -> None:
    manifests = helm.template({"crds": {"install": False}})
    assert of_kind(manifests, "CustomResourceDefinition") == []
    assert of_kind(manifests, "Deployment") != []

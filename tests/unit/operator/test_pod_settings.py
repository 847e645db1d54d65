"""spec.pod reaches every pod: scheduling, registry credentials, service account, extra
metadata; the API and worker spread over nodes and zones unless told otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from ingest_operator.spec import InvalidSpecError, parse_spec
from tests.support.crd_schema import apply_schema_defaults, load_crd, root_schema
from tests.support.ingest_service_builders import minimal_spec
from tests.unit.operator.rendered_children import pod_templates, render_children

TOLERATION = {"key": "dedicated", "operator": "Equal", "value": "ingest", "effect": "NoSchedule"}
AFFINITY = {
    "nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "arch", "operator": "In", "values": ["arm64"]}]}
            ]
        }
    }
}
SPEC_SCHEMA = root_schema(load_crd())["properties"]["spec"]


def spec_with_pod(**pod: Any) -> dict[str, Any]:
    raw = minimal_spec()
    raw["pod"] = pod
    return raw


def test_every_pod_gets_the_scheduling_and_identity_of_spec_pod() -> None:
    raw = spec_with_pod(
        nodeSelector={"pool": "ingest"},
        tolerations=[TOLERATION],
        affinity=AFFINITY,
        priorityClassName="platform-high",
        imagePullSecrets=[{"name": "registry-creds"}],
        serviceAccountName="ingest-s3-irsa",
    )

    for role, template in pod_templates(render_children(raw)).items():
        pod = template["spec"]
        assert pod["nodeSelector"] == {"pool": "ingest"}, role
        assert pod["tolerations"] == [TOLERATION], role
        assert pod["affinity"] == AFFINITY, role
        assert pod["priorityClassName"] == "platform-high", role
        assert pod["imagePullSecrets"] == [{"name": "registry-creds"}], role
        assert pod["serviceAccountName"] == "ingest-s3-irsa", role
        # The token stays unmounted: the service never calls the Kubernetes API.
        assert pod["automountServiceAccountToken"] is False, role


def test_unset_fields_are_left_out_of_the_pods() -> None:
    for template in pod_templates(render_children()).values():
        pod = template["spec"]
        for field in ("nodeSelector", "tolerations", "affinity", "priorityClassName"):
            assert field not in pod
        assert "imagePullSecrets" not in pod
        assert "serviceAccountName" not in pod


def test_extra_labels_and_annotations_never_replace_the_operators_own() -> None:
    raw = spec_with_pod(
        labels={"team": "payments", "app.kubernetes.io/instance": "hijack"},
        annotations={"sidecar.istio.io/inject": "false", "ingest.example.com/checksum": "x"},
    )

    templates = pod_templates(render_children(raw))

    for role, template in templates.items():
        labels = template["metadata"]["labels"]
        assert labels["team"] == "payments", role
        assert labels["app.kubernetes.io/instance"] == "demo", role
        assert template["metadata"]["annotations"]["sidecar.istio.io/inject"] == "false", role
    api_annotations = templates["api"]["metadata"]["annotations"]
    assert api_annotations["ingest.example.com/checksum"] != "x"


def test_by_default_api_and_workers_spread_softly_over_nodes_and_zones() -> None:
    templates = pod_templates(render_children())

    for role in ("api", "worker"):
        constraints = templates[role]["spec"]["topologySpreadConstraints"]
        assert [c["topologyKey"] for c in constraints] == [
            "kubernetes.io/hostname",
            "topology.kubernetes.io/zone",
        ]
        for constraint in constraints:
            assert constraint["whenUnsatisfiable"] == "ScheduleAnyway"
            assert constraint["maxSkew"] == 1
            selector = constraint["labelSelector"]["matchLabels"]
            assert selector["app.kubernetes.io/component"] == role
            assert selector["app.kubernetes.io/instance"] == "demo"
    # One-off pods do not spread.
    assert "topologySpreadConstraints" not in templates["migration"]["spec"]


def test_given_spread_constraints_replace_the_default_and_count_their_deployment() -> None:
    zone = {
        "maxSkew": 2,
        "topologyKey": "topology.kubernetes.io/zone",
        "whenUnsatisfiable": "DoNotSchedule",
    }
    chosen = {**zone, "labelSelector": {"matchLabels": {"tier": "ingest"}}}

    templates = pod_templates(
        render_children(spec_with_pod(topologySpreadConstraints=[zone, chosen]))
    )

    first, second = templates["worker"]["spec"]["topologySpreadConstraints"]
    assert first["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "worker"
    assert second == chosen
    none_at_all = pod_templates(render_children(spec_with_pod(topologySpreadConstraints=[])))
    assert none_at_all["api"]["spec"]["topologySpreadConstraints"] == []


def test_the_crds_defaults_parse_to_the_same_settings() -> None:
    raw = spec_with_pod(nodeSelector={"pool": "ingest"})
    assert parse_spec(apply_schema_defaults(raw, SPEC_SCHEMA)).pod == parse_spec(raw).pod


@pytest.mark.parametrize(
    ("pod", "path"),
    [
        ({"nodeSelector": {"pool": 3}}, "spec.pod.nodeSelector.pool"),
        ({"imagePullSecrets": [{}]}, r"spec.pod.imagePullSecrets\[0\].name"),
        ({"tolerations": "all"}, "spec.pod.tolerations"),
    ],
)
def test_a_wrong_field_is_named(pod: dict[str, Any], path: str) -> None:
    with pytest.raises(InvalidSpecError, match=path):
        parse_spec(spec_with_pod(**pod))

"""The CRD in crds/ teaches itself (descriptions), agrees with spec.py, and explains its rules."""

from __future__ import annotations

from typing import Any

import pytest

from ingest_operator import naming
from ingest_operator.spec import (
    Environment,
    ImagePullPolicy,
    InvalidSpecError,
    LogLevel,
    ServiceType,
    parse_spec,
)
from tests.support.crd_schema import (
    apply_schema_defaults,
    load_crd,
    root_schema,
    validation_rules,
    version_entry,
    walk_schema,
)
from tests.support.ingest_service_builders import minimal_spec, spec_with_every_reference

CRD = load_crd()
SCHEMA = root_schema(CRD)
SPEC_SCHEMA = SCHEMA["properties"]["spec"]
STATUS_SCHEMA = SCHEMA["properties"]["status"]


def _node(schema: dict[str, Any], dotted: str) -> dict[str, Any]:
    node = schema
    for part in dotted.split("."):
        node = node["properties"][part]
    return node


def test_names_group_and_scope() -> None:
    assert CRD["metadata"]["name"] == "ingestservices.ingest.example.com"
    assert CRD["spec"]["group"] == naming.GROUP
    assert CRD["spec"]["scope"] == "Namespaced"
    names = CRD["spec"]["names"]
    assert names["kind"] == naming.KIND
    assert names["shortNames"] == ["ingsvc"]
    assert names["categories"] == ["ingest"]


def test_one_served_storage_version_with_status_subresource() -> None:
    versions = CRD["spec"]["versions"]
    assert [v["name"] for v in versions] == [naming.VERSION]
    entry = version_entry(CRD)
    assert entry["served"] is True
    assert entry["storage"] is True
    assert entry["subresources"] == {"status": {}}


def test_printer_columns_read_ready_from_conditions() -> None:
    columns = {c["name"]: c for c in version_entry(CRD)["additionalPrinterColumns"]}
    assert columns["Ready"]["jsonPath"] == '.status.conditions[?(@.type=="Ready")].status'
    assert columns["Environment"]["jsonPath"] == ".spec.environment"
    assert columns["Replicas"]["jsonPath"] == ".status.replicas.summary"
    assert columns["Endpoint"]["jsonPath"] == ".status.endpoint"
    assert columns["Age"]["type"] == "date"


def test_every_property_has_a_description() -> None:
    # metadata is the one exception: the API server refuses anything but its type there.
    missing = [
        path
        for path, node in walk_schema(SCHEMA)
        if path != "metadata" and not str(node.get("description", "")).strip()
    ]
    assert missing == []
    assert SCHEMA["properties"]["metadata"] == {"type": "object"}


# Kubernetes' own scheduling structures, passed to the pods as they are written
# (the API server checks them in the Deployments): the only subtrees that keep
# fields the CRD does not list.
PASSED_THROUGH = {"spec.pod.affinity", "spec.pod.topologySpreadConstraints[]"}


def test_every_node_is_typed_and_nothing_escapes_pruning() -> None:
    # A structural schema: every node has a type, and no subtree keeps unknown fields
    # (kopf keeps its progress in annotations under its own prefix, not in status),
    # but the scheduling structures spec.pod passes through.
    preserved = set()
    for path, node in walk_schema(SCHEMA):
        assert "type" in node, path
        if node.get("x-kubernetes-preserve-unknown-fields"):
            preserved.add(path)
    assert preserved == PASSED_THROUGH


def test_every_validation_rule_has_a_message() -> None:
    rules = list(validation_rules(SCHEMA))
    assert len(rules) >= 10
    for path, rule in rules:
        assert rule["rule"].strip(), path
        message = rule.get("message", "")
        assert len(message) > 20, f"{path}: {rule['rule']}"


def test_production_rules_exist_for_what_the_spec_alone_decides() -> None:
    spec_rules = " ".join(rule["rule"] for rule in SPEC_SCHEMA["x-kubernetes-validations"])
    assert "self.cors.origins.exists(o, o == '*')" in spec_rules
    assert "!self.debug" in spec_rules
    assert "self.replicas.api >= 2" in spec_rules


def test_the_name_rule_matches_the_child_naming_scheme() -> None:
    root_rules = [rule["rule"] for rule in SCHEMA["x-kubernetes-validations"]]
    assert f"size(self.metadata.name) <= {naming.MAX_NAME_LENGTH}" in root_rules


def test_defaults_of_a_minimal_spec_match_spec_py() -> None:
    raw = minimal_spec()
    defaulted = apply_schema_defaults(raw, SPEC_SCHEMA)
    # The schema filled in something, and spec.py arrives at the same spec either way.
    assert defaulted != raw
    assert parse_spec(defaulted) == parse_spec(raw)


def test_defaults_inside_optional_objects_match_spec_py() -> None:
    raw = spec_with_every_reference()
    defaulted = apply_schema_defaults(raw, SPEC_SCHEMA)
    assert defaulted["auth"]["jwtSecretRef"]["key"] == "jwtSecretKey"
    assert parse_spec(defaulted) == parse_spec(raw)


@pytest.mark.parametrize(
    ("dotted", "default"),
    [
        ("environment", "development"),
        ("replicas.api", 2),
        ("replicas.worker", 2),
        ("rateLimit.requestsPerMinute", 120),
        ("processing.maxDecompressedBytes", 20 * 1024**3),
        ("processing.maxCompressionRatio", 200),
        ("processing.maxLineBytes", 65536),
        ("processing.timeoutSeconds", 3600),
        ("processing.maxRetries", 3),
        ("debug", False),
        ("logLevel", "info"),
        ("service.type", "ClusterIP"),
        ("service.port", 80),
        ("cors.origins", []),
        ("s3.region", "us-east-1"),
    ],
)
def test_the_brief_s_defaults_are_in_the_crd(dotted: str, default: object) -> None:
    assert _node(SPEC_SCHEMA, dotted)["default"] == default


@pytest.mark.parametrize(
    ("dotted", "enum"),
    [
        ("environment", Environment),
        ("logLevel", LogLevel),
        ("imagePullPolicy", ImagePullPolicy),
        ("service.type", ServiceType),
    ],
)
def test_enums_match_spec_py(dotted: str, enum: type[Any]) -> None:
    assert _node(SPEC_SCHEMA, dotted)["enum"] == [member.value for member in enum]


@pytest.mark.parametrize("field", SPEC_SCHEMA["required"])
def test_what_the_crd_requires_spec_py_requires(field: str) -> None:
    raw = minimal_spec()
    del raw[field]
    with pytest.raises(InvalidSpecError) as caught:
        parse_spec(raw)
    assert caught.value.path == f"spec.{field}"


def test_secret_references_never_hold_values() -> None:
    # Every *SecretRef names a Secret and keys; none has a field for the value itself.
    refs = [(path, node) for path, node in walk_schema(SPEC_SCHEMA) if path.endswith("SecretRef")]
    assert len(refs) == 5
    for path, node in refs:
        assert node["required"] == ["name"], path
        fields = set(node["properties"]) - {"name"}
        assert fields, path
        assert all(field == "key" or field.endswith("Key") for field in fields), path


def test_conditions_have_the_metav1_condition_shape() -> None:
    conditions = STATUS_SCHEMA["properties"]["conditions"]
    assert conditions["x-kubernetes-list-type"] == "map"
    assert conditions["x-kubernetes-list-map-keys"] == ["type"]
    item = conditions["items"]
    assert set(item["properties"]) == {
        "type",
        "status",
        "reason",
        "message",
        "observedGeneration",
        "lastTransitionTime",
    }
    assert set(item["required"]) == {"type", "status", "reason", "message", "lastTransitionTime"}
    assert item["properties"]["status"]["enum"] == ["True", "False", "Unknown"]

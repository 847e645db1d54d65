"""Reads the IngestService CRD and does to a spec what the API server would.

`apply_schema_defaults` follows the API server's structural defaulting
(k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting/algorithm.go):
fill each absent property that has a default, then recurse into every present
property, the ones just defaulted included. Unit tests use it to compare the
CRD's defaults with spec.py's without an API server; the integration tests
check the real one.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CRD_PATH = REPO_ROOT / "crds" / "ingestservices.ingest.example.com.yaml"

Schema = Mapping[str, Any]


def load_crd(path: Path = CRD_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        crd: dict[str, Any] = yaml.safe_load(stream)
    return crd


def version_entry(crd: Mapping[str, Any], version: str = "v1alpha1") -> dict[str, Any]:
    for entry in crd["spec"]["versions"]:
        if entry["name"] == version:
            found: dict[str, Any] = entry
            return found
    raise KeyError(f"the CRD serves no version {version}")


def root_schema(crd: Mapping[str, Any], version: str = "v1alpha1") -> dict[str, Any]:
    schema: dict[str, Any] = version_entry(crd, version)["schema"]["openAPIV3Schema"]
    return schema


def walk_schema(schema: Schema, path: str = "") -> Iterator[tuple[str, Schema]]:
    """Every node below `schema` (itself excluded), as (dotted path, node)."""
    for name, child in (schema.get("properties") or {}).items():
        child_path = f"{path}.{name}" if path else name
        yield child_path, child
        yield from walk_schema(child, child_path)
    items = schema.get("items")
    if items is not None:
        items_path = f"{path}[]"
        yield items_path, items
        yield from walk_schema(items, items_path)


def validation_rules(schema: Schema) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every x-kubernetes-validations rule, with the path of the node that holds it."""
    for rule in schema.get("x-kubernetes-validations") or []:
        yield "", rule
    for path, node in walk_schema(schema):
        for rule in node.get("x-kubernetes-validations") or []:
            yield path, rule


def apply_schema_defaults(value: Any, schema: Schema) -> Any:
    """A copy of `value` with the schema's defaults applied, as the API server does."""
    result = copy.deepcopy(value)
    _default_in_place(result, schema)
    return result


def _default_in_place(value: Any, schema: Schema) -> None:
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        for name, child in properties.items():
            if "default" in child and value.get(name) is None:
                value[name] = copy.deepcopy(child["default"])
        for name, child_value in value.items():
            if name in properties:
                _default_in_place(child_value, properties[name])
    elif isinstance(value, list) and "items" in schema:
        for item in value:
            _default_in_place(item, schema["items"])

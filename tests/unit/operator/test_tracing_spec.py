"""spec.tracing: off by default; on, the standard OTEL_* settings reach the API
and the worker, each pod naming its Deployment as the service that traces."""

from __future__ import annotations

from typing import Any

import pytest

from ingest_operator.spec import InvalidSpecError, parse_spec
from ingest_operator.tracing_spec import DEFAULT_TRACING
from tests.support.crd_schema import apply_schema_defaults, load_crd, root_schema
from tests.support.ingest_service_builders import minimal_spec
from tests.unit.operator.rendered_children import OWNER, render_children

SPEC_SCHEMA = root_schema(load_crd())["properties"]["spec"]
ENDPOINT = "http://otel-collector.observability:4318"


def traced(**tracing: Any) -> dict[str, Any]:
    raw = minimal_spec()
    raw["tracing"] = {"enabled": True, "endpoint": ENDPOINT, **tracing}
    return raw


def container_env(children: dict[Any, Any], deployment: str) -> dict[str, Any]:
    (container,) = children["Deployment", deployment]["spec"]["template"]["spec"]["containers"]
    return {entry["name"]: entry for entry in container["env"]}


def test_the_crds_defaults_are_the_operators() -> None:
    spec = parse_spec(apply_schema_defaults(minimal_spec(), SPEC_SCHEMA))
    assert spec.tracing == DEFAULT_TRACING
    assert not DEFAULT_TRACING.enabled


def test_off_no_otel_setting_reaches_the_pods() -> None:
    children = render_children()
    config = children["ConfigMap", f"{OWNER.name}-config"]["data"]
    assert not [key for key in config if key.startswith("OTEL_")]
    assert "OTEL_SERVICE_NAME" not in container_env(children, f"{OWNER.name}-api")


def test_on_the_otel_settings_reach_the_api_and_the_worker() -> None:
    children = render_children(traced(samplingRatio="0.25"))
    config = children["ConfigMap", f"{OWNER.name}-config"]["data"]
    assert {key: value for key, value in config.items() if key.startswith("OTEL_")} == {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": ENDPOINT,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.25",
    }
    for deployment in (f"{OWNER.name}-api", f"{OWNER.name}-worker"):
        env = container_env(children, deployment)
        assert env["OTEL_SERVICE_NAME"]["value"] == deployment
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"]["valueFrom"]["configMapKeyRef"]["key"] == (
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        )


@pytest.mark.parametrize(
    ("tracing", "field"),
    [
        ({"enabled": True}, "spec.tracing.endpoint"),
        (
            {"enabled": True, "endpoint": ENDPOINT, "samplingRatio": "1.5"},
            "spec.tracing.samplingRatio",
        ),
        (
            {"enabled": True, "endpoint": ENDPOINT, "samplingRatio": "half"},
            "spec.tracing.samplingRatio",
        ),
    ],
)
def test_a_spec_the_crd_would_refuse_is_refused_naming_the_field(
    tracing: dict[str, Any], field: str
) -> None:
    raw = minimal_spec()
    raw["tracing"] = tracing
    with pytest.raises(InvalidSpecError) as raised:
        parse_spec(raw)
    assert raised.value.path == field

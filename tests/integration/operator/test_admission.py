"""The real API server refuses IngestServices that break the CRD's schema or any of
its CEL rules, each with the message the CRD gives. No operator is involved:
this is what admission alone guarantees."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.cluster import ApiError, Cluster
from tests.support.crd_schema import load_crd, root_schema, validation_rules
from tests.support.ingest_service_builders import minimal_spec, production_spec
from tests.support.operator import ingest_service_manifest

# A spec that breaks one CEL rule each, keyed by the rule's expression as the
# CRD spells it; with the name to create it under.
Breaker = Callable[[], tuple[str, dict[str, Any]]]


def _named(name: str) -> Breaker:
    return lambda: (name, minimal_spec())


def _spec(build: Callable[[], dict[str, Any]]) -> Breaker:
    return lambda: ("shop", build())


def _resources(component: str, field: str, request: str) -> Breaker:
    def build() -> dict[str, Any]:
        spec = minimal_spec()
        spec["resources"] = {component: {"requests": {field: request}}}
        return spec

    return _spec(build)


def _image(image: str) -> Breaker:
    def build() -> dict[str, Any]:
        spec = minimal_spec()
        spec["image"] = image
        return spec

    return _spec(build)


BREAKERS: dict[str, Breaker] = {
    "size(self.metadata.name) <= 46": _named("a" * 47),
    "self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')": _named("9shop"),
    "self.environment != 'production' || !self.cors.origins.exists(o, o == '*')": _spec(
        lambda: production_spec(cors={"origins": ["https://app.example.com", "*"]})
    ),
    "self.environment != 'production' || !self.debug": _spec(lambda: production_spec(debug=True)),
    "self.environment != 'production' || self.replicas.api >= 2": _spec(
        lambda: production_spec(replicas={"api": 1})
    ),
    "self.environment != 'production' || self.replicas.worker >= 1": _spec(
        lambda: production_spec(replicas={"worker": 0})
    ),
    "self.environment != 'production' || self.image.contains('@') "
    "|| !self.image.endsWith(':latest')": _spec(
        lambda: production_spec(image="registry.example.com/ingest-api:latest")
    ),
    "self.environment != 'production' || !self.s3.endpoint.startsWith('http://') "
    "|| (has(self.s3.allowPlainHttp) && self.s3.allowPlainHttp)": _spec(
        lambda: production_spec(
            s3={**production_spec()["s3"], "endpoint": "http://minio.example.com:9000"}
        )
    ),
    "self.environment != 'production' || !has(self.autoscaling) "
    "|| !has(self.autoscaling.api) || !self.autoscaling.api.enabled "
    "|| self.autoscaling.api.minReplicas >= 2": _spec(
        lambda: production_spec(autoscaling={"api": {"enabled": True, "minReplicas": 1}})
    ),
    "!has(self.autoscaling) || !has(self.autoscaling.api) "
    "|| self.autoscaling.api.minReplicas <= self.autoscaling.api.maxReplicas": _spec(
        lambda: production_spec(autoscaling={"api": {"minReplicas": 5, "maxReplicas": 4}})
    ),
    "!has(self.autoscaling) || !has(self.autoscaling.worker) "
    "|| self.autoscaling.worker.minReplicas <= self.autoscaling.worker.maxReplicas": _spec(
        lambda: production_spec(autoscaling={"worker": {"minReplicas": 11}})
    ),
    "!has(self.enabled) || !self.enabled || has(self.endpoint)": _spec(
        lambda: production_spec(tracing={"enabled": True})
    ),
    "self.matches('@sha256:[a-f0-9]{64}$') "
    "|| self.matches(':[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$')": _image(
        "registry.example.com/ingest-api"
    ),
}
# The four requests-within-limits rules differ only in the resource they compare.
for _component, _field, _request in (
    ("api", "cpu", "2"),
    ("api", "memory", "1Gi"),
    ("worker", "cpu", "2"),
    ("worker", "memory", "2Gi"),
):
    _path = f"self.resources.{_component}"
    BREAKERS[
        f"!isQuantity({_path}.requests.{_field}) || !isQuantity({_path}.limits.{_field}) "
        f"|| quantity({_path}.requests.{_field}).compareTo(quantity({_path}.limits.{_field})) <= 0"
    ] = _resources(_component, _field, _request)


def _compact(rule: str) -> str:
    # YAML folds a long rule onto lines wherever the CRD's author broke it.
    return "".join(rule.split())


CEL_RULES = {
    _compact(str(rule["rule"])): " ".join(str(rule["message"]).split())
    for _, rule in validation_rules(root_schema(load_crd()))
}


def refusal(cluster: Cluster, namespace: str, name: str, spec: dict[str, Any]) -> str:
    """The API server's message refusing the resource (the test fails if it is admitted)."""
    with pytest.raises(ApiError) as refused:
        cluster.create(ingest_service_manifest(namespace, name, spec))
    assert refused.value.status == 422, refused.value.body
    return str(json.loads(refused.value.body)["message"])


def test_every_cel_rule_of_the_crd_has_a_case_here() -> None:
    assert {_compact(rule) for rule in BREAKERS} == set(CEL_RULES)


@pytest.mark.usefixtures("ingest_crd")
@pytest.mark.parametrize("rule", sorted(BREAKERS))
def test_the_api_server_refuses_what_breaks_a_cel_rule_with_its_message(
    cluster: Cluster, namespace: str, rule: str
) -> None:
    name, spec = BREAKERS[rule]()

    message = refusal(cluster, namespace, name, spec)

    assert CEL_RULES[_compact(rule)] in message


def _without_image() -> dict[str, Any]:
    spec = minimal_spec()
    del spec["image"]
    return spec


def _with(**fields: Any) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        spec = minimal_spec()
        spec.update(fields)
        return spec

    return build


SCHEMA_BREAKERS: dict[str, tuple[Callable[[], dict[str, Any]], str]] = {
    "required field": (_without_image, "spec.image: Required value"),
    "enum": (_with(environment="prod"), 'spec.environment: Unsupported value: "prod"'),
    "maximum": (_with(replicas={"api": 101}), "should be less than or equal to 100"),
    "type": (_with(replicas={"api": "two"}), 'spec.replicas.api: Invalid value: "string"'),
    "bucket pattern": (
        lambda: {**minimal_spec(), "s3": {**minimal_spec()["s3"], "bucket": "Bad_Bucket"}},
        "spec.s3.bucket in body should match",
    ),
    "origin pattern": (
        _with(cors={"origins": ["https://app.example.com/path"]}),
        "spec.cors.origins[0] in body should match",
    ),
    "quantity pattern": (
        _with(resources={"api": {"limits": {"memory": "lots"}}}),
        "spec.resources.api.limits.memory in body should match",
    ),
    "an OIDC provider signing with a shared secret": (
        _with(
            auth={
                "oidc": [
                    {
                        "name": "corp",
                        "issuer": "https://idp",
                        "audience": "a",
                        "algorithms": ["HS256"],
                    }
                ]
            }
        ),
        'spec.auth.oidc[0].algorithms[0]: Unsupported value: "HS256"',
    ),
    "a ServiceAccount granted an unknown role": (
        _with(
            auth={
                "workloadIdentity": {
                    "audience": "ingest-api",
                    "serviceAccounts": [{"namespace": "apps", "role": "root"}],
                }
            }
        ),
        'spec.auth.workloadIdentity.serviceAccounts[0].role: Unsupported value: "root"',
    ),
    "secret name pattern": (
        _with(postgres={"urlSecretRef": {"name": "Ingest_DB"}}),
        "spec.postgres.urlSecretRef.name in body should match",
    ),
}


@pytest.mark.usefixtures("ingest_crd")
@pytest.mark.parametrize("case", sorted(SCHEMA_BREAKERS))
def test_the_api_server_refuses_what_breaks_the_schema(
    cluster: Cluster, namespace: str, case: str
) -> None:
    build, expected = SCHEMA_BREAKERS[case]

    message = refusal(cluster, namespace, "shop", build())

    assert expected in message


@pytest.mark.usefixtures("ingest_crd")
def test_the_api_server_fills_in_the_defaults(cluster: Cluster, namespace: str) -> None:
    stored = cluster.create(ingest_service_manifest(namespace, "shop", minimal_spec()))

    spec = stored["spec"]
    assert spec["environment"] == "development"
    assert spec["replicas"] == {"api": 2, "worker": 2}
    assert spec["resources"]["worker"]["limits"]["memory"] == "1Gi"
    assert spec["postgres"]["urlSecretRef"]["key"] == "url"
    assert spec["service"] == {"type": "ClusterIP", "port": 80}


@pytest.mark.usefixtures("ingest_crd")
def test_the_api_server_keeps_identity_providers_with_their_defaults(
    cluster: Cluster, namespace: str
) -> None:
    spec = minimal_spec()
    spec["auth"] = {
        "oidc": [{"name": "corp", "issuer": "https://idp.example.com", "audience": "api"}],
        "workloadIdentity": {
            "audience": "ingest-api",
            "serviceAccounts": [{"namespace": "apps", "name": "shipper", "role": "uploader"}],
        },
    }
    stored = cluster.create(ingest_service_manifest(namespace, "shop", spec))["spec"]["auth"]
    assert stored["passwordLogin"] is True
    assert stored["oidc"][0] == {
        "name": "corp", "issuer": "https://idp.example.com", "audience": "api",
        "algorithms": ["RS256"], "leewaySeconds": 30, "rolesClaim": "groups",
    }  # fmt: skip
    assert stored["workloadIdentity"]["serviceAccounts"][0]["role"] == "uploader"

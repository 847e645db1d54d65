"""spec.autoscaling: an HPA for the API, KEDA (or an HPA) for the workers, and the
Deployments' replicas left to them."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from ingest_operator.autoscaling import (
    CONSUMER_GROUP,
    JOB_STREAM,
    InvalidRedisUrlError,
    RedisConnection,
    parse_redis_url,
)
from ingest_operator.autoscaling_spec import DEFAULT_AUTOSCALING
from ingest_operator.spec import parse_spec
from tests.support.crd_schema import apply_schema_defaults, load_crd, root_schema
from tests.support.ingest_service_builders import minimal_spec
from tests.unit.operator.rendered_children import render_children

SPEC_SCHEMA = root_schema(load_crd())["properties"]["spec"]
REDIS = RedisConnection(address="redis.internal:6379", database=3, tls=True, password="s3cret")


def autoscaled(**autoscaling: Any) -> dict[str, Any]:
    raw = minimal_spec()
    raw["autoscaling"] = autoscaling
    return raw


def test_the_crds_defaults_are_the_operators() -> None:
    assert parse_spec(apply_schema_defaults(minimal_spec(), SPEC_SCHEMA)).autoscaling == (
        DEFAULT_AUTOSCALING
    )
    assert not DEFAULT_AUTOSCALING.api.enabled
    assert not DEFAULT_AUTOSCALING.worker.enabled


def test_without_autoscaling_the_operator_applies_the_replicas() -> None:
    children = render_children()

    assert children["Deployment", "demo-api"]["spec"]["replicas"] == 2
    assert not [key for key in children if key[0] == "HorizontalPodAutoscaler"]


def test_an_autoscaled_api_gets_an_hpa_on_cpu_and_no_replicas_from_the_operator() -> None:
    raw = autoscaled(api={"enabled": True, "minReplicas": 3, "maxReplicas": 12})

    children = render_children(raw)

    hpa = children["HorizontalPodAutoscaler", "demo-api"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "demo-api",
    }
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 12)
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["target"] == {"type": "Utilization", "averageUtilization": 70}
    assert hpa["metadata"]["ownerReferences"][0]["controller"] is True
    assert "replicas" not in children["Deployment", "demo-api"]["spec"]
    assert children["Deployment", "demo-worker"]["spec"]["replicas"] == 2


def test_the_disruption_budget_follows_the_autoscalers_minimum() -> None:
    one_at_least = autoscaled(worker={"enabled": True, "minReplicas": 1})
    assert ("PodDisruptionBudget", "demo-worker") not in render_children(one_at_least)

    two_at_least = autoscaled(worker={"enabled": True, "minReplicas": 2})
    assert ("PodDisruptionBudget", "demo-worker") in render_children(two_at_least)


def test_without_keda_the_workers_scale_on_cpu() -> None:
    children = render_children(autoscaled(worker={"enabled": True}))

    hpa = children["HorizontalPodAutoscaler", "demo-worker"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "demo-worker"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (1, 10)
    assert not [key for key in children if key[0] == "ScaledObject"]
    assert "replicas" not in children["Deployment", "demo-worker"]["spec"]


def test_with_keda_the_workers_scale_on_the_jobs_waiting_in_the_stream() -> None:
    raw = autoscaled(worker={"enabled": True, "maxReplicas": 30, "jobsPerReplica": 20})

    children = render_children(raw, keda_redis=REDIS)

    scaled = children["ScaledObject", "demo-worker"]
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"] == {"name": "demo-worker"}
    assert (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]) == (1, 30)
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis-streams"
    assert trigger["metadata"] == {
        "stream": JOB_STREAM,
        "consumerGroup": CONSUMER_GROUP,
        "lagCount": "20",
        "activationLagCount": "0",
        "databaseIndex": "3",
        "enableTLS": "true",
    }
    # No credential in the ScaledObject: KEDA reads them through the TriggerAuthentication.
    assert "s3cret" not in str(scaled)
    authentication = children["TriggerAuthentication", "demo-worker"]
    assert trigger["authenticationRef"] == {"name": "demo-worker"}
    assert {ref["parameter"] for ref in authentication["spec"]["secretTargetRef"]} == {
        "address",
        "password",
    }
    secret = children["Secret", "demo-keda"]
    decoded = {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
    assert decoded == {"address": "redis.internal:6379", "password": "s3cret"}
    assert not [key for key in children if key[0] == "HorizontalPodAutoscaler"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://redis:6379/0", RedisConnection("redis:6379", 0, False)),
        ("redis://redis", RedisConnection("redis:6379", 0, False)),
        (
            "rediss://:p%40ss@cache.example.com:6380/5",
            RedisConnection("cache.example.com:6380", 5, True, password="p@ss"),
        ),
        (
            "redis://ingest:pw@[fd00::1]:7000/2",
            RedisConnection("[fd00::1]:7000", 2, False, username="ingest", password="pw"),
        ),
    ],
)
def test_redis_urls_become_kedas_connection_settings(url: str, expected: RedisConnection) -> None:
    assert parse_redis_url(url) == expected


@pytest.mark.parametrize(
    "url", ["", "http://redis:6379", "redis://", "redis://redis:port/0", "redis://redis/db"]
)
def test_a_redis_url_keda_cannot_use_is_refused(url: str) -> None:
    with pytest.raises(InvalidRedisUrlError):
        parse_redis_url(url)

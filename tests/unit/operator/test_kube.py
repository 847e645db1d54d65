"""The API adapter without an API server: paths, decoding and errors, over a fake transport."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from ingest_operator import kinds
from ingest_operator.kube import (
    Forbidden,
    Invalid,
    KubeClient,
    NamespaceTerminating,
    Unavailable,
)


class FakeResponse:
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.data = json.dumps(body).encode() if body is not None else b""

    def read(self) -> bytes:
        return self.data


class FakeApi:
    """Stands in for kubernetes.client.ApiClient: records requests, answers from a script."""

    def __init__(self, *answers: tuple[int, Any]) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []

    def param_serialize(self, **request: Any) -> tuple[Any, ...]:
        self.requests.append(request)
        return (request["method"], request["resource_path"], request["header_params"])

    def call_api(self, *_: Any, **__: Any) -> FakeResponse:
        status, body = self.answers.pop(0)
        return FakeResponse(status, body)


def client(*answers: tuple[int, Any]) -> tuple[KubeClient, FakeApi]:
    api = FakeApi(*answers)
    return KubeClient(api, reporting_instance="test"), api  # type: ignore[arg-type]


def encoded(value: bytes) -> str:
    return base64.b64encode(value).decode()


def test_paths_of_core_and_group_kinds() -> None:
    assert kinds.SECRET.object_path("team-a", "db") == "/api/v1/namespaces/team-a/secrets/db"
    assert (
        kinds.DEPLOYMENT.collection_path("team-a") == "/apis/apps/v1/namespaces/team-a/deployments"
    )


def test_secret_data_is_decoded_and_binary_values_keep_a_distinct_form() -> None:
    data = {"url": encoded(b"postgresql://db/x"), "key": encoded(b"\xff\xfe")}
    kube_client, _ = client((200, {"data": data}))

    decoded = kube_client.read_secret_data("team-a", "db")

    assert decoded == {"url": "postgresql://db/x", "key": f"base64:{data['key']}"}


def test_a_missing_object_reads_as_none() -> None:
    kube_client, _ = client((404, {"kind": "Status", "message": "not found"}))

    assert kube_client.read(kinds.SECRET, "team-a", "db") is None


@pytest.mark.parametrize(
    ("status", "error"), [(403, Forbidden), (422, Invalid), (500, Unavailable), (429, Unavailable)]
)
def test_errors_carry_the_api_servers_message(status: int, error: type[Exception]) -> None:
    kube_client, _ = client((status, {"kind": "Status", "message": "secrets is forbidden"}))

    with pytest.raises(error, match="secrets is forbidden"):
        kube_client.read(kinds.SECRET, "team-a", "db")


def test_a_namespace_being_deleted_is_told_apart_from_missing_rights() -> None:
    refusal = {
        "kind": "Status",
        "message": 'configmaps "c" is forbidden: unable to create new content in namespace a',
        "details": {"causes": [{"reason": "NamespaceTerminating", "field": "metadata.namespace"}]},
    }
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "a"}}
    kube_client, _ = client((403, refusal))

    with pytest.raises(NamespaceTerminating):
        kube_client.apply(obj)


def test_apply_is_a_forced_server_side_apply_as_the_operators_field_manager() -> None:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "shop-config", "namespace": "team-a"},
    }
    kube_client, api = client((200, obj))

    kube_client.apply(obj)

    (request,) = api.requests
    assert request["method"] == "PATCH"
    assert request["resource_path"] == "/api/v1/namespaces/team-a/configmaps/shop-config"
    assert request["header_params"]["Content-Type"] == "application/apply-patch+yaml"
    assert ("fieldManager", "ingest-operator") in request["query_params"]
    assert ("force", "true") in request["query_params"]


def test_an_existing_job_is_never_created_again() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "m", "namespace": "a"}}
    kube_client, api = client((200, {**job, "status": {"active": 1}}))

    stored = kube_client.create_once(job)

    assert stored["status"] == {"active": 1}
    assert [request["method"] for request in api.requests] == ["GET"]


def test_a_repeated_event_bumps_the_count_of_the_first() -> None:
    shop = {
        "apiVersion": "ingest.example.com/v1alpha1",
        "kind": "IngestService",
        "metadata": {"name": "shop", "namespace": "a", "uid": "u"},
    }
    kube_client, api = client((409, {"message": "exists"}), (200, {"count": 3}), (200, {}))

    kube_client.post_event(shop, type="Warning", reason="SecretMissing", message="Secret 'db'")

    assert [request["method"] for request in api.requests] == ["POST", "GET", "PATCH"]
    assert api.requests[2]["body"]["count"] == 4

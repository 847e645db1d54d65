"""The local control plane is a real kube-apiserver with controllers behind it:
it validates CRD schemas and CEL rules, and the garbage collector runs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client as kube_client
from kubernetes.client.exceptions import ApiException

GROUP = "smoke.ingest.test"
PLURAL = "widgets"

WIDGET_CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": f"{PLURAL}.{GROUP}"},
    "spec": {
        "group": GROUP,
        "scope": "Namespaced",
        "names": {"plural": PLURAL, "singular": "widget", "kind": "Widget"},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "spec": {
                                "type": "object",
                                "required": ["size"],
                                "properties": {
                                    "size": {"type": "integer", "minimum": 1, "maximum": 10},
                                    "mode": {"type": "string", "enum": ["test", "production"]},
                                },
                                "x-kubernetes-validations": [
                                    {
                                        "rule": "self.mode != 'production' || self.size >= 3",
                                        "message": "production widgets need a size of at least 3",
                                    }
                                ],
                            }
                        },
                    }
                },
            }
        ],
    },
}


def wait_until(predicate: Any, timeout: float = 60.0, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


@pytest.fixture(scope="module")
def widget_crd(kube_api: kube_client.ApiClient) -> Iterator[None]:
    extensions = kube_client.ApiextensionsV1Api(kube_api)
    name = WIDGET_CRD["metadata"]["name"]
    try:
        extensions.create_custom_resource_definition(WIDGET_CRD)
    except ApiException as error:
        if error.status != 409:
            raise

    def established() -> bool:
        crd = extensions.read_custom_resource_definition(name)
        return any(
            c.type == "Established" and c.status == "True" for c in crd.status.conditions or []
        )

    wait_until(established)
    yield
    extensions.delete_custom_resource_definition(name)


def widget(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": {"name": name}, "spec": spec}


def test_apiserver_reports_the_pinned_version(kube_api: kube_client.ApiClient) -> None:
    info = kube_client.VersionApi(kube_api).get_code()
    assert info.git_version.startswith("v1.")
    assert info.git_version != "v0.0.0"
    assert int(info.minor.rstrip("+")) >= 29  # CEL validation rules are GA from 1.29


@pytest.mark.usefixtures("widget_crd")
def test_apiserver_accepts_a_valid_custom_resource(
    kube_api: kube_client.ApiClient, namespace: str
) -> None:
    custom = kube_client.CustomObjectsApi(kube_api)
    custom.create_namespaced_custom_object(
        GROUP, "v1", namespace, PLURAL, widget("ok", size=5, mode="production")
    )
    stored = custom.get_namespaced_custom_object(GROUP, "v1", namespace, PLURAL, "ok")
    assert stored["spec"] == {"size": 5, "mode": "production"}


@pytest.mark.usefixtures("widget_crd")
def test_apiserver_rejects_an_object_that_breaks_the_schema(
    kube_api: kube_client.ApiClient, namespace: str
) -> None:
    custom = kube_client.CustomObjectsApi(kube_api)
    with pytest.raises(ApiException) as refused:
        custom.create_namespaced_custom_object(
            GROUP, "v1", namespace, PLURAL, widget("big", size=50)
        )
    assert refused.value.status == 422
    assert "spec.size" in refused.value.body
    assert "less than or equal to 10" in refused.value.body


@pytest.mark.usefixtures("widget_crd")
def test_apiserver_rejects_an_object_that_breaks_a_cel_rule(
    kube_api: kube_client.ApiClient, namespace: str
) -> None:
    custom = kube_client.CustomObjectsApi(kube_api)
    with pytest.raises(ApiException) as refused:
        custom.create_namespaced_custom_object(
            GROUP, "v1", namespace, PLURAL, widget("small", size=1, mode="production")
        )
    assert refused.value.status == 422
    assert "production widgets need a size of at least 3" in refused.value.body


def test_garbage_collector_deletes_a_child_whose_owner_is_gone(
    kube_api: kube_client.ApiClient, namespace: str
) -> None:
    core = kube_client.CoreV1Api(kube_api)
    owner = core.create_namespaced_config_map(
        namespace, kube_client.V1ConfigMap(metadata=kube_client.V1ObjectMeta(name="owner"))
    )
    reference = kube_client.V1OwnerReference(
        api_version="v1", kind="ConfigMap", name="owner", uid=owner.metadata.uid
    )
    core.create_namespaced_secret(
        namespace,
        kube_client.V1Secret(
            metadata=kube_client.V1ObjectMeta(name="child", owner_references=[reference]),
            string_data={"key": "value"},
        ),
    )

    core.delete_namespaced_config_map("owner", namespace)

    def child_gone() -> bool:
        try:
            core.read_namespaced_secret("child", namespace)
        except ApiException as error:
            if error.status == 404:
                return True
            raise
        return False

    wait_until(child_gone, timeout=60)

"""A small REST client of the local kube-apiserver for the operator tests, and polling.

Tests read what the operator did with requests of their own rather than
through the operator's kube.py: a test that observed the cluster through
the code under test would share its mistakes. Every object comes back as
the API server's JSON (camelCase dicts), which is what the assertions
compare against.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kubernetes import client as kube_client

_T = TypeVar("_T")

MERGE_PATCH = "application/merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
TEST_FIELD_MANAGER = "ingest-tests"

# kind -> (API version, plural); the kinds the operator tests touch.
KINDS: dict[str, tuple[str, str]] = {
    "Namespace": ("v1", "namespaces"),
    "Node": ("v1", "nodes"),
    "Pod": ("v1", "pods"),
    "Secret": ("v1", "secrets"),
    "ConfigMap": ("v1", "configmaps"),
    "Service": ("v1", "services"),
    "ServiceAccount": ("v1", "serviceaccounts"),
    "Event": ("v1", "events"),
    "Deployment": ("apps/v1", "deployments"),
    "ReplicaSet": ("apps/v1", "replicasets"),
    "Job": ("batch/v1", "jobs"),
    "CronJob": ("batch/v1", "cronjobs"),
    "PodDisruptionBudget": ("policy/v1", "poddisruptionbudgets"),
    "HorizontalPodAutoscaler": ("autoscaling/v2", "horizontalpodautoscalers"),
    "ScaledObject": ("keda.sh/v1alpha1", "scaledobjects"),
    "TriggerAuthentication": ("keda.sh/v1alpha1", "triggerauthentications"),
    "PodMonitor": ("monitoring.coreos.com/v1", "podmonitors"),
    "ServiceMonitor": ("monitoring.coreos.com/v1", "servicemonitors"),
    "PrometheusRule": ("monitoring.coreos.com/v1", "prometheusrules"),
    "Lease": ("coordination.k8s.io/v1", "leases"),
    "ClusterRole": ("rbac.authorization.k8s.io/v1", "clusterroles"),
    "ClusterRoleBinding": ("rbac.authorization.k8s.io/v1", "clusterrolebindings"),
    "Role": ("rbac.authorization.k8s.io/v1", "roles"),
    "RoleBinding": ("rbac.authorization.k8s.io/v1", "rolebindings"),
    "CustomResourceDefinition": ("apiextensions.k8s.io/v1", "customresourcedefinitions"),
    "IngestService": ("ingest.example.com/v1alpha1", "ingestservices"),
}
CLUSTER_SCOPED = {
    "Namespace",
    "Node",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
}


class ApiError(Exception):
    """The API server answered with an error status; `body` is its metav1.Status."""

    def __init__(self, method: str, path: str, status: int, body: str) -> None:
        super().__init__(f"{method} {path}: {status} {body}")
        self.status = status
        self.body = body


def object_path(kind: str, namespace: str | None = None, name: str | None = None) -> str:
    api_version, plural = KINDS[kind]
    root = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    scope = "" if kind in CLUSTER_SCOPED or namespace is None else f"/namespaces/{namespace}"
    return f"{root}{scope}/{plural}" + (f"/{name}" if name else "")


class Cluster:
    """Plain REST calls as dicts; `None` for an object that does not exist."""

    def __init__(self, api: kube_client.ApiClient) -> None:
        self.api = api

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: list[tuple[str, str]] | None = None,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        serialized = self.api.param_serialize(
            method=method,
            resource_path=path,
            query_params=query,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response = self.api.call_api(*serialized, _request_timeout=(5, 30))
        raw: bytes = response.read()  # type: ignore[no-untyped-call]
        if not 200 <= response.status < 300:
            raise ApiError(method, path, response.status, raw.decode(errors="replace"))
        parsed: dict[str, Any] = json.loads(raw) if raw else {}
        return parsed

    def get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        try:
            return self.request("GET", object_path(kind, namespace, name))
        except ApiError as error:
            if error.status == 404:
                return None
            raise

    def must_get(self, kind: str, namespace: str | None, name: str) -> dict[str, Any]:
        """The object, which the test knows exists."""
        found = self.get(kind, namespace, name)
        if found is None:
            raise AssertionError(f"{kind} {namespace}/{name} does not exist")
        return found

    def list(
        self, kind: str, namespace: str | None, label_selector: str | None = None
    ) -> list[dict[str, Any]]:
        query = [("labelSelector", label_selector)] if label_selector else None
        items: list[dict[str, Any]] = self.request(
            "GET", object_path(kind, namespace), query=query
        )["items"]
        return items

    def create(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        return self.request(
            "POST", object_path(obj["kind"], obj["metadata"].get("namespace")), body=obj
        )

    def apply(
        self, obj: Mapping[str, Any], *, field_manager: str = TEST_FIELD_MANAGER
    ) -> dict[str, Any]:
        metadata = obj["metadata"]
        return self.request(
            "PATCH",
            object_path(obj["kind"], metadata.get("namespace"), metadata["name"]),
            body=obj,
            query=[("fieldManager", field_manager), ("force", "true")],
            content_type=APPLY_PATCH,
        )

    def patch(
        self,
        kind: str,
        namespace: str | None,
        name: str,
        body: Mapping[str, Any],
        *,
        subresource: str | None = None,
        field_manager: str = TEST_FIELD_MANAGER,
    ) -> dict[str, Any]:
        path = object_path(kind, namespace, name) + (f"/{subresource}" if subresource else "")
        return self.request(
            "PATCH",
            path,
            body=body,
            query=[("fieldManager", field_manager)],
            content_type=MERGE_PATCH,
        )

    def delete(self, kind: str, namespace: str | None, name: str) -> None:
        try:
            self.request("DELETE", object_path(kind, namespace, name))
        except ApiError as error:
            if error.status != 404:
                raise


def wait_for(
    probe: Callable[[], _T | None],
    *,
    timeout: float,
    message: str,
    interval: float = 0.2,
) -> _T:
    """Poll `probe` until it returns something truthy, and return that; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"within {timeout}s: {message}")
        time.sleep(interval)


def stays(
    probe: Callable[[], bool], *, duration: float, message: str, interval: float = 0.2
) -> None:
    """Assert that `probe` holds for `duration` seconds (something must NOT happen)."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        if not probe():
            raise AssertionError(message)
        time.sleep(interval)


def wait_until_established(cluster: Cluster, crd_name: str) -> None:
    """Wait until the API server serves the CustomResourceDefinition's kind."""

    def established() -> bool:
        stored = cluster.get("CustomResourceDefinition", None, crd_name) or {}
        return any(
            condition["type"] == "Established" and condition["status"] == "True"
            # A CRD just created has `conditions: null` until the API server looks at it.
            for condition in (stored.get("status") or {}).get("conditions") or []
        )

    wait_for(established, timeout=30, message=f"{crd_name} is established")

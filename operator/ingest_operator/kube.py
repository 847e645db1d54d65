"""The operator's one door to the Kubernetes API server.

Everything else in the package is pure or wiring; every request the
reconciler makes goes through KubeClient, so the RBAC manifests in
operator/deploy/ can be checked against this one file. Requests are plain
REST calls built from the table of the kinds the operator touches (kinds.py), so
server-side apply, create, list and delete read the same for every kind.
(kopf keeps its own connection for watching and for its annotations.)

Errors, all raised as KubeError subclasses so that a handler can catch one
type and turn it into a retry instead of a traceback:

    KubeError
    ├── Forbidden      403: the operator's RBAC lacks a verb (a deployment bug)
    │   └── NamespaceTerminating  the namespace is being deleted: nothing to do
    ├── Conflict       409: someone else changed or created the object first
    ├── Invalid        400/422: the API server refused the object
    └── Unavailable    5xx, 429, timeouts, refused connections: try again later

A missing object is not an error here: readers return None, and the caller
decides what a missing Secret means (a condition, not an exception).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import os
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import urllib3
from kubernetes import client as kube_client
from kubernetes import config as kube_config
from kubernetes.client.exceptions import ApiException

from ingest_operator import kinds, metrics
from ingest_operator.events import render_event

logger = logging.getLogger(__name__)

# One field manager for every child: the fields it owns are the operator's.
FIELD_MANAGER: Final = "ingest-operator"

# (connect, read) seconds: a request that hangs must not hold a handler thread.
REQUEST_TIMEOUT: Final = (5.0, 30.0)

_APPLY_PATCH: Final = "application/apply-patch+yaml"
_MERGE_PATCH: Final = "application/merge-patch+json"
_NOT_FOUND: Final = 404
# Every write names the operator as its field manager (managedFields say who
# wrote what; without it the API server records the client library's name).
_AS_OPERATOR: Final = [("fieldManager", FIELD_MANAGER)]


class KubeError(Exception):
    """A request to the API server failed; the message says which and why."""


class Forbidden(KubeError):
    pass


class NamespaceTerminating(Forbidden):
    """The namespace is being deleted, and the children with it: stop, do not retry."""


class Conflict(KubeError):
    pass


class Invalid(KubeError):
    pass


class Unavailable(KubeError):
    pass


def load_api_client() -> kube_client.ApiClient:
    """A client with the pod's service account in a cluster, else $KUBECONFIG."""
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        configuration = kube_client.Configuration()
        kube_config.load_incluster_config(  # type: ignore[no-untyped-call]
            client_configuration=configuration
        )
        return kube_client.ApiClient(configuration)
    api: kube_client.ApiClient = kube_config.new_client_from_config()  # type: ignore[no-untyped-call]
    return api


class KubeClient:
    """Reads and writes the objects of IngestServices; see the module docstring for errors."""

    def __init__(self, api: kube_client.ApiClient, *, reporting_instance: str) -> None:
        self._api = api
        self._reporting_instance = reporting_instance

    @property
    def api(self) -> kube_client.ApiClient:
        """The underlying client, with the operator's credentials (for the Lease)."""
        return self._api

    # --- reading ----------------------------------------------------------------

    def read(self, kind: kinds.Kind, namespace: str, name: str) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        try:
            return self._request("GET", kind.object_path(namespace, name))
        except _NotFound:
            return None

    def read_secret_data(self, namespace: str, name: str) -> dict[str, str] | None:
        """A Secret's data, decoded; None when the Secret does not exist."""
        secret = self.read(kinds.SECRET, namespace, name)
        if secret is None:
            return None
        return {key: _decode(value) for key, value in (secret.get("data") or {}).items()}

    def list_labelled(
        self, kind: kinds.Kind, namespace: str, label_selector: str
    ) -> list[dict[str, Any]]:
        """The objects of `kind` with those labels; none when the cluster lacks the kind."""
        try:
            found = self._request(
                "GET", kind.collection_path(namespace), query=[("labelSelector", label_selector)]
            )
        except _NotFound:
            return []
        items: list[dict[str, Any]] = found.get("items") or []
        for item in items:
            # A list's items carry neither; the callers key children by kind.
            item.setdefault("apiVersion", kind.api_version)
            item.setdefault("kind", kind.kind)
        return items

    def serves(self, kind: kinds.Kind) -> bool:
        """Whether the API server serves `kind` (its CRD is installed), by discovery."""
        try:
            found = self._request("GET", f"/apis/{kind.api_version}")
        except _NotFound:
            return False
        return any(resource.get("name") == kind.plural for resource in found.get("resources", []))

    def list_ingest_services(self, namespace: str | None) -> list[dict[str, Any]]:
        """Every IngestService in `namespace`, or in the cluster when None."""
        path = (
            f"/apis/{kinds.INGEST_SERVICE.api_version}/{kinds.INGEST_SERVICE.plural}"
            if namespace is None
            else kinds.INGEST_SERVICE.collection_path(namespace)
        )
        items: list[dict[str, Any]] = self._request("GET", path).get("items") or []
        return items

    # --- writing ----------------------------------------------------------------

    def apply(
        self, obj: Mapping[str, Any], *, field_manager: str = FIELD_MANAGER
    ) -> dict[str, Any]:
        """Server-side apply as the operator's field manager, taking over conflicting fields.

        Forcing is what restores drift: a field someone edited by hand
        returns to the operator's value and ownership.
        """
        metadata = obj["metadata"]
        return self._request(
            "PATCH",
            _kind_of(obj).object_path(metadata["namespace"], metadata["name"]),
            query=[("fieldManager", field_manager), ("force", "true")],
            body=obj,
            content_type=_APPLY_PATCH,
        )

    def create_once(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """Create the object unless it exists; either way return what is stored.

        For objects that must never be updated (a Job's pod template is
        immutable, and a migration runs once per image and database).
        """
        metadata = obj["metadata"]
        kind = _kind_of(obj)
        # Read first: in the steady state the object exists, and one GET beats
        # a refused POST followed by a GET.
        existing = self.read(kind, metadata["namespace"], metadata["name"])
        if existing is not None:
            return existing
        try:
            return self._request(
                "POST",
                kind.collection_path(metadata["namespace"]),
                query=_AS_OPERATOR,
                body=obj,
            )
        except Conflict:
            # Created by a reconciliation that raced this one (an operator restart).
            raced = self.read(kind, metadata["namespace"], metadata["name"])
            if raced is None:
                raise
            return raced

    def delete(self, obj: Mapping[str, Any]) -> None:
        """Delete exactly this object (by uid), and its dependents in the background."""
        metadata = obj["metadata"]
        body = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            # Pods of an old migration Job go too, without waiting on them here.
            "propagationPolicy": "Background",
            # A same-named object created since it was listed is not ours to delete.
            "preconditions": {"uid": metadata["uid"]},
        }
        path = _kind_of(obj).object_path(metadata["namespace"], metadata["name"])
        # Gone already, or replaced by a new object of the same name: nothing to do.
        with contextlib.suppress(_NotFound, Conflict):
            self._request("DELETE", path, body=body)

    def patch_status(self, namespace: str, name: str, status: Mapping[str, Any]) -> None:
        """Merge the fields of `status` into the IngestService's status subresource."""
        self._request(
            "PATCH",
            kinds.INGEST_SERVICE.object_path(namespace, name) + "/status",
            query=_AS_OPERATOR,
            body={"status": status},
            content_type=_MERGE_PATCH,
        )

    def post_event(
        self, regarding: Mapping[str, Any], *, type: str, reason: str, message: str
    ) -> None:
        """Record an Event about `regarding`; the same Event again bumps its count."""
        now = _now()
        event = render_event(
            regarding,
            type=type,
            reason=reason,
            message=message,
            now=now,
            reporting_instance=self._reporting_instance,
        )
        namespace, name = event["metadata"]["namespace"], event["metadata"]["name"]
        try:
            self._request(
                "POST", kinds.EVENT.collection_path(namespace), query=_AS_OPERATOR, body=event
            )
        except Conflict:
            existing = self.read(kinds.EVENT, namespace, name) or {}
            self._request(
                "PATCH",
                kinds.EVENT.object_path(namespace, name),
                query=_AS_OPERATOR,
                body={"count": int(existing.get("count") or 1) + 1, "lastTimestamp": now},
                content_type=_MERGE_PATCH,
            )

    # --- the wire -----------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        headers = {"Accept": "application/json"}
        if content_type is not None:
            headers["Content-Type"] = content_type
        serialized = self._api.param_serialize(
            method=method,
            resource_path=path,
            query_params=query,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        started = time.perf_counter()
        try:
            response = self._api.call_api(*serialized, _request_timeout=REQUEST_TIMEOUT)
            raw: bytes = response.read()  # type: ignore[no-untyped-call]
            logger.debug(
                "%s %s: %s in %.1f ms",
                method,
                path,
                response.status,
                (time.perf_counter() - started) * 1000,
            )
        except (urllib3.exceptions.HTTPError, OSError) as error:
            metrics.API_REQUESTS.labels(method, "0").inc()
            raise Unavailable(f"{method} {path}: {error}") from error
        except ApiException as error:
            metrics.API_REQUESTS.labels(method, str(error.status or 0)).inc()
            raise _translate(method, path, error.status or 0, error.body) from error
        metrics.API_REQUESTS.labels(method, str(response.status)).inc()
        if not 200 <= response.status < 300:
            raise _translate(method, path, response.status, raw)
        parsed: dict[str, Any] = json.loads(raw) if raw else {}
        return parsed


class _NotFound(KubeError):
    """Internal: readers turn it into None, deleters into success."""


def _translate(method: str, path: str, status: int, raw: bytes | str | None) -> KubeError:
    body = _status_body(raw)
    message = f"{method} {path}: {status} {body.get('message') or ''}".strip()
    if status == _NOT_FOUND:
        return _NotFound(message)
    if status == 403:
        causes = (body.get("details") or {}).get("causes") or []
        if any(cause.get("reason") == "NamespaceTerminating" for cause in causes):
            return NamespaceTerminating(message)
        return Forbidden(message)
    if status == 409:
        return Conflict(message)
    if status in (400, 422):
        return Invalid(message)
    if status == 429 or status >= 500:
        return Unavailable(message)
    return KubeError(message)


def _status_body(raw: bytes | str | None) -> dict[str, Any]:
    """The metav1.Status the API server answers an error with (its message says why)."""
    if not raw:
        return {}
    text = raw.decode(errors="replace") if isinstance(raw, bytes) else raw
    try:
        parsed = json.loads(text)
    except ValueError:
        return {"message": text}
    return parsed if isinstance(parsed, dict) else {"message": text}


def _kind_of(obj: Mapping[str, Any]) -> kinds.Kind:
    kind = kinds.KINDS.get(str(obj.get("kind")))
    if kind is None or kind.api_version != obj.get("apiVersion"):
        raise ValueError(f"the operator does not manage {obj.get('apiVersion')}/{obj.get('kind')}")
    return kind


def _decode(value: str) -> str:
    """A Secret value as text.

    A value that is not UTF-8 (a binary key) keeps its base64 form, prefixed
    so it cannot equal a text value: the policy can still judge its length,
    and the checksum still changes when it is rotated.
    """
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return f"base64:{value}"
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return f"base64:{value}"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

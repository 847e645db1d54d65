"""The names and labels of an IngestService's children.

Rendering creates children under these names, and the status and apply steps
find them again under the same names, so the scheme lives in one place. The
CRD caps an IngestService's name at MAX_NAME_LENGTH so that every child name
here stays a valid DNS label (63 characters).
"""

from __future__ import annotations

import hashlib
import json
import re
from enum import StrEnum
from typing import Final

GROUP: Final = "ingest.example.com"
VERSION: Final = "v1alpha1"
KIND: Final = "IngestService"
API_VERSION: Final = f"{GROUP}/{VERSION}"

# The longest child name is "<name>-migrate-<8 hex>": 17 characters on top of
# the name, and a Job's name becomes a label value (at most 63 characters).
MIGRATION_HASH_LENGTH: Final = 8
MAX_NAME_LENGTH: Final = 63 - len("-migrate-") - MIGRATION_HASH_LENGTH

PART_OF: Final = "ingest-service"
MANAGED_BY: Final = "ingest-operator"

LABEL_NAME: Final = "app.kubernetes.io/name"
LABEL_INSTANCE: Final = "app.kubernetes.io/instance"
LABEL_COMPONENT: Final = "app.kubernetes.io/component"
LABEL_PART_OF: Final = "app.kubernetes.io/part-of"
LABEL_MANAGED_BY: Final = "app.kubernetes.io/managed-by"
LABEL_VERSION: Final = "app.kubernetes.io/version"

# On pod templates: a new checksum (a rotated Secret, a changed ConfigMap) or
# a new restart request changes the template, and so rolls the pods.
CHECKSUM_ANNOTATION: Final = f"{GROUP}/checksum"
RESTARTED_AT_ANNOTATION: Final = f"{GROUP}/restartedAt"
# On the IngestService: "true" stops reconciling it (a Paused condition says so).
PAUSED_ANNOTATION: Final = f"{GROUP}/paused"
# On a Secret: "true" has the operator watch it, so that a rotation rolls the
# pods of the IngestServices that reference it at once (otherwise at the next
# resync). Watches carry label selectors: Secrets without it never reach the
# operator's memory. The generated Secret carries it too.
RELOAD_LABEL: Final = f"{GROUP}/reload"
RELOAD_LABEL_VALUE: Final = "true"

# A label value: at most 63 characters, alphanumeric at both ends.
_LABEL_VALUE_MAX: Final = 63
_LABEL_VALUE_INVALID: Final = re.compile(r"[^A-Za-z0-9_.-]")


class Component(StrEnum):
    """What a child is for; the value is its app.kubernetes.io/component label."""

    API = "api"
    WORKER = "worker"
    MIGRATION = "migration"
    PURGE = "purge"
    CONFIG = "config"
    GENERATED_SECRET = "generated-secret"  # noqa: S105 - a label value
    AUTOSCALING = "autoscaling"
    MONITORING = "monitoring"


def api_name(name: str) -> str:
    """The API Deployment, its Service and its PodDisruptionBudget."""
    return f"{name}-api"


def worker_name(name: str) -> str:
    """The worker Deployment and its PodDisruptionBudget."""
    return f"{name}-worker"


def config_map_name(name: str) -> str:
    return f"{name}-config"


def generated_secret_name(name: str) -> str:
    """The Secret that keeps what the operator generated (the JWT key)."""
    return f"{name}-generated"


def keda_secret_name(name: str) -> str:
    """The Secret KEDA's TriggerAuthentication reads the Redis address from."""
    return f"{name}-keda"


def purge_name(name: str) -> str:
    """The purge CronJob: at most 52 characters, as a CronJob name must be
    (its Jobs add 11), which MAX_NAME_LENGTH leaves room for."""
    return f"{name}-purge"


def migration_job_name(name: str, image: str, database_digest: str) -> str:
    """One Job per image and database: each pair migrates once, the same pair never again.

    `database_digest` stands for the database the Job migrates
    (render.compute_database_digest), never its URL: the URL holds a password,
    and a Job's name is seen by anyone who may list Jobs.
    """
    identity = json.dumps([image, database_digest], separators=(",", ":"))
    identity_hash = hashlib.sha256(identity.encode()).hexdigest()[:MIGRATION_HASH_LENGTH]
    return f"{name}-migrate-{identity_hash}"


def version_label_value(image: str) -> str:
    """The image's tag (or digest) shaped into a valid label value."""
    reference = image.rsplit("/", 1)[-1]
    if "@" in reference:
        version = reference.split("@", 1)[1].replace(":", "-")
    elif ":" in reference:
        version = reference.split(":", 1)[1]
    else:
        version = "unknown"
    version = _LABEL_VALUE_INVALID.sub("-", version)[:_LABEL_VALUE_MAX]
    return version.strip("-_.") or "unknown"


def selector_labels(name: str, component: Component) -> dict[str, str]:
    """The labels a Deployment selects its pods by; selectors are immutable, so no version."""
    return {
        LABEL_NAME: PART_OF,
        LABEL_INSTANCE: name,
        LABEL_COMPONENT: component.value,
    }


def standard_labels(name: str, component: Component, image: str) -> dict[str, str]:
    """The app.kubernetes.io/* labels every child carries."""
    return {
        **selector_labels(name, component),
        LABEL_PART_OF: PART_OF,
        LABEL_MANAGED_BY: MANAGED_BY,
        LABEL_VERSION: version_label_value(image),
    }


def managed_selector() -> str:
    """A label selector that finds every child of every IngestService."""
    return f"{LABEL_MANAGED_BY}={MANAGED_BY}"


def reload_selector() -> str:
    """A label selector that finds the Secrets the operator watches."""
    return f"{RELOAD_LABEL}={RELOAD_LABEL_VALUE}"


def instance_selector(name: str) -> str:
    """A label selector that finds every child of one IngestService."""
    return f"{LABEL_INSTANCE}={name},{LABEL_MANAGED_BY}={MANAGED_BY}"

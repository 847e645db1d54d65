"""Renders an IngestService's children for the render and pod tests, indexed for lookup."""

from __future__ import annotations

from typing import Any

from ingest_operator.render import (
    Owner,
    RenderInputs,
    compute_database_digest,
    render_desired_objects,
)
from ingest_operator.spec import parse_spec
from tests.support.ingest_service_builders import (
    DATABASE_URL_VALUE,
    GENERATED_JWT_VALUE,
    minimal_spec,
)

OWNER = Owner(name="demo", namespace="team-a", uid="0b9a4c1e-7d51-4f0e-9a57-3c1d2e8f6a10")
CHECKSUM = "c" * 64
CHECKSUM_KEY = "checksum-key-5f0c2b7e9a1d4e6b8c3a0f2d7e9b1c4a"
# The digest a reconciliation computes from the builders' database Secret.
DATABASE_DIGEST = compute_database_digest(CHECKSUM_KEY, {"DATABASE_URL": DATABASE_URL_VALUE})

# (kind, name) -> object
Children = dict[tuple[str, str], dict[str, Any]]


def render_children(raw: dict[str, Any] | None = None, **inputs: Any) -> Children:
    """The children of a spec (minimal by default), with RenderInputs overridable by keyword."""
    spec = parse_spec(raw if raw is not None else minimal_spec())
    render_inputs = RenderInputs(
        owner=OWNER,
        checksum=inputs.pop("checksum", CHECKSUM),
        checksum_key=inputs.pop("checksum_key", CHECKSUM_KEY),
        generated_jwt_secret=inputs.pop("generated_jwt_secret", GENERATED_JWT_VALUE),
        database_digest=inputs.pop("database_digest", DATABASE_DIGEST),
        **inputs,
    )
    return {
        (o["kind"], o["metadata"]["name"]): o for o in render_desired_objects(spec, render_inputs)
    }


def migration_job(children: Children) -> dict[str, Any]:
    (job,) = [o for (kind, _), o in children.items() if kind == "Job"]
    return job


def pod_templates(children: Children) -> dict[str, dict[str, Any]]:
    """The pod template of each workload, by role."""
    return {
        "api": children["Deployment", "demo-api"]["spec"]["template"],
        "worker": children["Deployment", "demo-worker"]["spec"]["template"],
        "migration": migration_job(children)["spec"]["template"],
        "purge": children["CronJob", "demo-purge"]["spec"]["jobTemplate"]["spec"]["template"],
    }


def only_container(template: dict[str, Any]) -> dict[str, Any]:
    (container,) = template["spec"]["containers"]
    found: dict[str, Any] = container
    return found


def env_by_name(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in only_container(template)["env"]}

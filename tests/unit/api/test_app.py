"""The application factory wires routes and answers liveness without
touching any dependency (no lifespan runs here: nothing is connected)."""

from __future__ import annotations

from starlette.testclient import TestClient

from ingest_api.app import create_app
from ingest_api.core.config import Settings


def test_healthz_answers_without_dependencies() -> None:
    client = TestClient(create_app(Settings(_env_file=None)))  # type: ignore[call-arg]
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert len(response.headers["x-request-id"]) == 32
    assert response.headers["x-content-type-options"] == "nosniff"


def test_openapi_documents_every_route() -> None:
    schema = create_app(Settings(_env_file=None)).openapi()  # type: ignore[call-arg]
    paths = set(schema["paths"])
    assert {"/v1/auth/token", "/v1/auth/refresh", "/v1/jobs", "/v1/jobs/{job_id}/complete",
            "/v1/users", "/healthz", "/readyz"} <= paths  # fmt: skip

"""The application factory builds an app that answers its liveness probe."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ingest_api.app import create_app


def test_healthz_answers_without_dependencies() -> None:
    with TestClient(create_app()) as client:
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}

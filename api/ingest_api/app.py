"""Builds the FastAPI application and serves it (the `ingest-api` command)."""

from __future__ import annotations

import os

import uvicorn
from fastapi import FastAPI

from ingest_api import __version__


def create_app() -> FastAPI:
    """The API application, with its routes and middleware wired."""
    app = FastAPI(title="Ingest Service", version=__version__)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers; dependencies are not checked here."""
        return {"status": "ok"}

    return app


def main() -> None:
    """Serve the API with uvicorn on HOST:PORT (defaults 0.0.0.0:8000)."""
    uvicorn.run(
        create_app(),
        host=os.environ.get("HOST", "0.0.0.0"),  # noqa: S104 - a container listens on all interfaces
        port=int(os.environ.get("PORT", "8000")),
    )

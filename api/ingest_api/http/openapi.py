"""The OpenAPI document, completed with what FastAPI cannot see in the routes.

FastAPI documents what a route returns when it succeeds and its validation
error. Every other answer comes from the middleware and the problem
handlers: 401 and 403 from authentication, 404 and 409 from the services,
429 from the rate limiter, 503 from an unreachable dependency, 500 from a
bug; each is `application/problem+json`, and every answer carries
`X-Request-ID`. This module adds them to the document (pure: a document in,
a document out), so a generated client can handle every answer it gets.
The rules below mirror where the errors come from; the schemathesis test
(`tests/integration/api/test_openapi_conformance.py`) holds them to the
running service.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, Field

from ingest_api.http.problem import MEDIA_TYPE

Document = dict[str, Any]

_STRING = {"type": "string"}
_INTEGER = {"type": "integer"}

REQUEST_ID_HEADER = {
    "description": "the request's id: the caller's X-Request-ID if acceptable, else a new one",
    "schema": _STRING,
}
RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": {"description": "requests allowed per window", "schema": _INTEGER},
    "RateLimit-Remaining": {"description": "requests left in this window", "schema": _INTEGER},
    "RateLimit-Reset": {"description": "seconds until the window resets", "schema": _INTEGER},
}
RETRY_AFTER_HEADER = {"description": "seconds to wait before trying again", "schema": _INTEGER}

DESCRIPTIONS = {
    400: "the body is not JSON, or not UTF-8",
    401: "no valid access token (or wrong credentials)",
    403: "your role may not do this",
    404: "no such thing, or it is not yours",
    409: "the request clashes with the current state",
    413: "the request body is larger than this API takes",
    414: "the query string is longer than this API takes",
    431: "the headers are larger than this API takes",
    422: "the input is not acceptable; `errors` names each field",
    429: "too many requests; wait Retry-After seconds",
    500: "a bug; quote the request id when reporting it",
    503: "PostgreSQL, Redis or S3 is unreachable; try again after Retry-After seconds",
}


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """An error, as RFC 9457 shapes it, with the request id."""

    type: str = Field(examples=["https://ingest.example.com/problems/not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["job 0b6f... does not exist"])
    instance: str = Field(examples=["/v1/jobs/0b6f..."])
    request_id: str | None = Field(examples=["4bf92f3577b34da6a3ce929d0e0e4736"])
    errors: list[FieldProblem] | None = Field(default=None, description="each bad field")
    dependency: str | None = Field(default=None, description="which dependency is unreachable")


def install_openapi(app: FastAPI, *, allowed_content_types: Iterable[str]) -> None:
    """Serve the completed document at /openapi.json (built once)."""
    content_types = list(allowed_content_types)

    def openapi() -> Document:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = complete(document, allowed_content_types=content_types)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def complete(document: Document, *, allowed_content_types: list[str]) -> Document:
    """`document` with every error answer, header and known enum declared."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem_schema.pop("$defs", {}))
    schemas["Problem"] = problem_schema
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    if "JobCreate" in schemas:
        schemas["JobCreate"]["properties"]["content_type"]["enum"] = allowed_content_types
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            for status in error_statuses(path, method, operation):
                operation["responses"][str(status)] = _problem_response(status)
            for status, response in operation["responses"].items():
                response["headers"] = {**response.get("headers", {}), **_headers(path, int(status))}
    return document


def error_statuses(path: str, method: str, operation: Document) -> list[int]:
    """The error statuses an operation can answer, by where errors come from."""
    statuses = {500}
    if path == "/readyz":
        statuses.add(503)
    if path.startswith("/v1/"):
        statuses |= {413, 414, 422, 429, 431, 503}
        if operation.get("security") or path.startswith("/v1/auth/"):
            statuses.add(401)
        if operation.get("security"):
            statuses.add(403)
        if "{" in path:
            statuses.add(404)
        if "requestBody" in operation:
            statuses.add(400)
        # A state the request clashes with: a job's (its result before it
        # has one, its upload or parts once it is past `created`), a user's,
        # an Idempotency-Key's.
        if (method in {"post", "patch"} and not path.startswith("/v1/auth/")) or path.endswith(
            ("/result", "/upload", "/parts")
        ):
            statuses.add(409)
    return sorted(statuses)


def _problem_response(status: int) -> Document:
    return {
        "description": DESCRIPTIONS[status],
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def _headers(path: str, status: int) -> Document:
    headers: Document = {"X-Request-ID": {**REQUEST_ID_HEADER, "required": True}}
    if path.startswith("/v1/"):
        headers.update(RATE_LIMIT_HEADERS)
    if status == 429:
        headers["Retry-After"] = {**RETRY_AFTER_HEADER, "required": True}
    elif status == 503:
        headers["Retry-After"] = RETRY_AFTER_HEADER
    return headers

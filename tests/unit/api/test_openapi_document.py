"""The OpenAPI document declares every answer: each error as problem+json,
the request id on every response, Retry-After where a client must wait, and
the allowed content types (from the settings) as an enum."""

from __future__ import annotations

from typing import Any

import pytest

from ingest_api.app import create_app
from ingest_api.core.config import Settings
from ingest_api.http.openapi import error_statuses

SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]
DOCUMENT = create_app(SETTINGS).openapi()
OPERATIONS = [
    (f"{method.upper()} {path}", operation)
    for path, operations in DOCUMENT["paths"].items()
    for method, operation in operations.items()
]


@pytest.mark.parametrize(("name", "operation"), OPERATIONS, ids=[n for n, _ in OPERATIONS])
def test_every_error_is_problem_json_and_every_answer_has_a_request_id(
    name: str, operation: dict[str, Any]
) -> None:
    for status, response in operation["responses"].items():
        assert response["headers"]["X-Request-ID"]["required"] is True, (name, status)
        if int(status) >= 400:
            assert list(response["content"]) == ["application/problem+json"], (name, status)
            schema = response["content"]["application/problem+json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}
    assert "500" in operation["responses"]


def test_waiting_answers_say_how_long() -> None:
    too_many = DOCUMENT["paths"]["/v1/jobs"]["post"]["responses"]["429"]
    assert too_many["headers"]["Retry-After"]["required"] is True
    assert (
        "RateLimit-Remaining" in DOCUMENT["paths"]["/v1/jobs"]["get"]["responses"]["200"]["headers"]
    )


def test_the_allowed_content_types_are_an_enum() -> None:
    content_type = DOCUMENT["components"]["schemas"]["JobCreate"]["properties"]["content_type"]
    assert content_type["enum"] == SETTINGS.allowed_content_types


# The request size limits every /v1 operation may answer (body, query).
LIMITS = (413, 414)


@pytest.mark.parametrize(
    ("path", "method", "secured", "expected"),
    [
        ("/healthz", "get", False, [500]),
        ("/readyz", "get", False, [500, 503]),
        ("/v1/auth/token", "post", False, [400, 401, *LIMITS, 422, 429, 431, 500, 503]),
        ("/v1/jobs", "get", True, [401, 403, *LIMITS, 422, 429, 431, 500, 503]),
        (
            "/v1/jobs/{job_id}/result",
            "get",
            True,
            [401, 403, 404, 409, *LIMITS, 422, 429, 431, 500, 503],
        ),
        (
            "/v1/jobs/{job_id}/cancel",
            "post",
            True,
            [401, 403, 404, 409, *LIMITS, 422, 429, 431, 500, 503],
        ),
    ],
)
def test_error_statuses_follow_where_errors_come_from(
    path: str, method: str, secured: bool, expected: list[int]
) -> None:
    operation: dict[str, Any] = {"security": [{"OAuth2PasswordBearer": []}]} if secured else {}
    if path == "/v1/auth/token":
        operation["requestBody"] = {}
    assert error_statuses(path, method, operation) == expected

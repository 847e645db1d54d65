"""One shape for every error: application/problem+json (RFC 9457).

Domain errors map to statuses here and nowhere else. Validation errors name
each offending field. Anything unexpected is a 500 with the request id and
no internals; the traceback goes to the log, bound to the same request id.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ingest_api.core import errors
from ingest_api.core.db_errors import is_unavailable
from ingest_api.core.logging import get_logger
from ingest_api.core.metrics import DEPENDENCY_ERRORS, RATE_LIMITED

PROBLEM_TYPE_BASE = "https://ingest.example.com/problems/"
MEDIA_TYPE = "application/problem+json"

STATUS_BY_ERROR: dict[type[errors.IngestError], int] = {
    errors.NotFound: 404,
    errors.Forbidden: 403,
    errors.Unauthenticated: 401,
    errors.Conflict: 409,
    errors.InvalidRequest: 422,
    errors.PayloadTooLarge: 413,
    errors.UriTooLong: 414,
    errors.HeadersTooLarge: 431,
    errors.RateLimited: 429,
    errors.DependencyUnavailable: 503,
}

log = get_logger(__name__)


def request_id_of(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def problem(
    request: Request,
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    body = {
        "type": PROBLEM_TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "request_id": request_id_of(request),
        **extensions,
    }
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def status_of(error: errors.IngestError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[kind]
    return 500


async def handle_domain_error(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, errors.IngestError):  # registered for this type only
        raise error
    headers: dict[str, str] = {}
    extensions: dict[str, Any] = {}
    if isinstance(error, errors.Unauthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if isinstance(error, errors.RateLimited | errors.DependencyUnavailable):
        headers["Retry-After"] = str(error.retry_after)
    if isinstance(error, errors.DependencyUnavailable):
        DEPENDENCY_ERRORS.labels(dependency=error.dependency).inc()
        extensions["dependency"] = error.dependency
        log.warning("dependency unavailable", dependency=error.dependency, detail=error.detail)
    if isinstance(error, errors.RateLimited):
        RATE_LIMITED.labels(key_kind=error.key_kind).inc()
    if isinstance(error, errors.InvalidRequest) and error.field:
        extensions["errors"] = [{"field": error.field, "message": error.detail}]
    return problem(
        request,
        status=status_of(error),
        code=error.code,
        title=error.title,
        detail=error.detail,
        headers=headers,
        **extensions,
    )


def field_name(location: tuple[int | str, ...]) -> str:
    """('body', 'labels', 'env') -> 'labels.env'; query and path keep their name."""
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie"}:
        parts = parts[1:] or parts
    return ".".join(parts)


async def handle_validation_error(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, RequestValidationError):  # registered for this type only
        raise error
    problems = [
        {
            "field": field_name(tuple(item["loc"])),
            "message": item["msg"].removeprefix("Value error, "),
        }
        for item in error.errors()
    ]
    detail = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
    return problem(
        request,
        status=422,
        code="validation-error",
        title="Invalid request",
        detail=detail,
        errors=problems,
    )


async def handle_http_exception(request: Request, error: Exception) -> JSONResponse:
    if not isinstance(error, HTTPException):  # registered for this type only
        raise error
    # FastAPI answers any error raised while it reads the body as a 400; one
    # of ours (the body limit's) is answered as itself.
    if isinstance(error.__cause__, errors.IngestError):
        return await handle_domain_error(request, error.__cause__)
    headers = dict(error.headers or {})
    return problem(
        request,
        status=error.status_code,
        code=f"http-{error.status_code}",
        title=str(error.detail) if error.status_code < 500 else "Server error",
        detail=str(error.detail),
        headers=headers,
    )


async def handle_unexpected(request: Request, error: Exception) -> JSONResponse:
    if is_unavailable(error):
        return await handle_domain_error(
            request,
            errors.DependencyUnavailable("the database is unreachable", dependency="postgres"),
        )
    log.exception("unhandled error", error_type=type(error).__name__)
    return problem(
        request,
        status=500,
        code="internal-error",
        title="Internal server error",
        detail="an unexpected error occurred; quote the request id when reporting it",
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(errors.IngestError, handle_domain_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(HTTPException, handle_http_exception)
    app.add_exception_handler(Exception, handle_unexpected)

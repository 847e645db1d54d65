"""The hottest requests, answered without FastAPI's per-request machinery.

Creating a job and reading one are most of the API's traffic, and FastAPI
spends more on routing such a request and resolving its dependencies than
the request's own work costs: measured, a third of job creation's CPU.

A `DirectRoute` pairs a documented FastAPI route (its path, its OpenAPI
schema) with a handler that takes the request from the raw scope and body
and calls the route's own function, so the work is written once. The
handler returns None for any request it would not answer exactly as the
route does, such as a body that does not validate: FastAPI then serves
that request (its body replayed) and words the error as it always does.
Domain errors become the same problem responses as the route's. The
route's template goes on the scope, so metrics and the access log label
these requests as they label FastAPI's.

Innermost of our middleware: direct requests are rate limited, counted and
logged like any other.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest_api.core.errors import IngestError
from ingest_api.http.problem import handle_domain_error

# Bodies this large are left to FastAPI: the direct routes take small JSON
# documents, and a body is held in memory while it is read.
MAX_DIRECT_BODY_BYTES = 64 * 1024

DirectHandler = Callable[[Request, dict[str, str], bytes], Awaitable[Response | None]]


@dataclass(frozen=True, slots=True)
class DirectRoute:
    """`handler(request, path_params, body)` answers `method` on `documented`'s path."""

    documented: APIRoute
    method: str
    handler: DirectHandler

    def path_params(self, scope: Scope) -> dict[str, str] | None:
        """The path's parameters, as text, when the request is this route's; else None."""
        if scope["method"] != self.method:
            return None
        match = self.documented.path_regex.match(scope["path"])
        return match.groupdict() if match else None


def route_of(routes: Sequence[object], endpoint: Callable[..., object]) -> APIRoute:
    """The route that `endpoint` serves, among a router's routes."""
    for route in routes:
        if isinstance(route, APIRoute) and route.endpoint is endpoint:
            return route
    raise LookupError(f"no route serves {endpoint.__qualname__}")


def is_json(request: Request) -> bool:
    """The body is declared plain JSON (other declarations are FastAPI's to judge)."""
    content_type = request.headers.get("content-type", "")
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


class DirectRoutes:
    def __init__(self, app: ASGIApp, *, routes: Sequence[DirectRoute]) -> None:
        self.app = app
        self.routes = tuple(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        matched = self._match(scope) if scope["type"] == "http" else None
        if matched is None:
            await self.app(scope, receive, send)
            return
        route, params = matched
        received = await _read_body(receive)
        body = _whole_body(received)
        request = Request(scope)
        response: Response | None
        try:
            response = None if body is None else await route.handler(request, params, body)
        except IngestError as error:
            response = await handle_domain_error(request, error)
        if response is None:
            await self.app(scope, _replaying(received, receive), send)
            return
        scope["route"] = route.documented
        await response(scope, receive, send)

    def _match(self, scope: Scope) -> tuple[DirectRoute, dict[str, str]] | None:
        for route in self.routes:
            params = route.path_params(scope)
            if params is not None:
                return route, params
        return None


async def _read_body(receive: Receive) -> list[Message]:
    """The request's messages up to the end of its body, or until it is too
    large to take directly (or the client is gone)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages
        size += len(message.get("body", b""))
        if not message.get("more_body", False) or size > MAX_DIRECT_BODY_BYTES:
            return messages


def _whole_body(messages: list[Message]) -> bytes | None:
    """The body the messages hold, if they hold all of it and it is small enough."""
    last = messages[-1]
    if last["type"] != "http.request" or last.get("more_body", False):
        return None
    body = b"".join(message.get("body", b"") for message in messages)
    return body if len(body) <= MAX_DIRECT_BODY_BYTES else None


def _replaying(messages: list[Message], receive: Receive) -> Receive:
    """`receive`, giving back the messages already read first."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay

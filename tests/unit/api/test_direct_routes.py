"""DirectRoutes on a small app of its own: who answers, what FastAPI receives
when a request is handed back, and how errors and route labels come out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import JSONResponse, Response
from starlette.testclient import TestClient
from starlette.types import ASGIApp, Receive, Scope, Send

from ingest_api.core.errors import Forbidden
from ingest_api.http.direct import MAX_DIRECT_BODY_BYTES, DirectRoute, DirectRoutes, route_of
from ingest_api.http.problem import install_problem_handlers

router = APIRouter()


@router.post("/items/{name}")
async def echo(name: str, request: Request) -> Response:
    return JSONResponse(
        {"served_by": "fastapi", "name": name, "body": (await request.body()).decode()}
    )


async def echo_directly(request: Request, params: dict[str, str], body: bytes) -> Response | None:
    if body == b"decline":
        return None
    if body == b"forbidden":
        raise Forbidden("not yours")
    return JSONResponse({"served_by": "direct", "name": params["name"], "body": body.decode()})


class RouteSeen:
    """Remembers the route template each request was labelled with, as the
    request-context middleware reads it."""

    def __init__(self, app: ASGIApp, *, seen: list[str]) -> None:
        self.app, self.seen = app, seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http":
            self.seen.append(getattr(scope.get("route"), "path", "unmatched"))


def client_and_seen() -> tuple[TestClient, list[str]]:
    app = FastAPI()
    app.include_router(router)
    install_problem_handlers(app)
    route = DirectRoute(route_of(router.routes, echo), "POST", echo_directly)
    app.add_middleware(DirectRoutes, routes=[route])
    seen: list[str] = []
    app.add_middleware(RouteSeen, seen=seen)
    return TestClient(app), seen


def post(client: TestClient, body: bytes) -> dict[str, Any]:
    response = client.post("/items/a", content=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def test_a_matching_request_is_answered_directly_and_labelled_with_its_template() -> None:
    client, seen = client_and_seen()
    assert post(client, b"hello") == {"served_by": "direct", "name": "a", "body": "hello"}
    assert seen == ["/items/{name}"]


def test_a_declined_request_reaches_fastapi_with_its_body() -> None:
    client, _ = client_and_seen()
    assert post(client, b"decline") == {"served_by": "fastapi", "name": "a", "body": "decline"}


def test_a_body_too_large_to_take_directly_reaches_fastapi_whole() -> None:
    client, _ = client_and_seen()
    large = b"x" * (MAX_DIRECT_BODY_BYTES + 1)

    def chunks() -> Any:
        for start in range(0, len(large), 10_000):  # several receive() messages
            yield large[start : start + 10_000]

    response = client.post("/items/a", content=chunks())
    assert response.json() == {"served_by": "fastapi", "name": "a", "body": large.decode()}


def test_a_domain_error_becomes_the_same_problem_response() -> None:
    client, _ = client_and_seen()
    response = client.post("/items/a", content=b"forbidden")
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "not yours"


def test_other_methods_and_paths_are_left_to_fastapi() -> None:
    client, _ = client_and_seen()
    assert client.get("/items/a").status_code == 405
    assert client.post("/items/a/more", content=b"x").status_code == 404

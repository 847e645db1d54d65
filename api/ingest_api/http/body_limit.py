"""A request body larger than the API takes is refused before anything
reads it (413), whoever sends it: FastAPI parses a body before it checks
the caller's token, so without this an anonymous client could make the API
buffer and parse any size.

A declared Content-Length over the limit is answered at once; a chunked
body is counted as it arrives and refused as soon as it passes the limit.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest_api.core.errors import PayloadTooLarge
from ingest_api.http.problem import handle_domain_error


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            response = await handle_domain_error(Request(scope), self._too_large())
            await response(scope, receive, send)
            return
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise self._too_large()
            return message

        await self.app(scope, counted_receive, send)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"the request body is larger than {self.max_bytes:,} bytes")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            # The server (h11, httptools) has refused a malformed one already.
            return int(value) if value.isdigit() else None
    return None

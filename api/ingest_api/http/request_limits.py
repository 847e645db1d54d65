"""Requests larger than the API takes are refused before anything reads
them, whoever sends them: FastAPI parses a body before it checks the
caller's token, so without this an anonymous client could make the API
buffer and parse any size.

- a body over MAX_REQUEST_BODY_BYTES: 413. A declared Content-Length over
  the limit is answered at once; a chunked body is counted as it arrives
  and refused as soon as it passes the limit;
- headers over MAX_HEADER_BYTES in all: 431; a query string over
  MAX_QUERY_BYTES: 414. (The HTTP server has read them by then: a proxy in
  front bounds what reaches it; here they are bounded before any header is
  decoded, any token verified or any query parsed.)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest_api.core.errors import HeadersTooLarge, IngestError, PayloadTooLarge, UriTooLong
from ingest_api.http.problem import handle_domain_error

# Far above what any client of this API sends: a bearer token is under
# 1 KiB, a job list's filters under 2 KiB.
MAX_HEADER_BYTES = 32 * 1024
MAX_QUERY_BYTES = 8 * 1024


class RequestLimitsMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            response = await handle_domain_error(Request(scope), refusal)
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

    def _refusal(self, scope: Scope) -> IngestError | None:
        """What is wrong with the request's size before its body, if anything."""
        header_bytes = sum(len(name) + len(value) for name, value in scope["headers"])
        if header_bytes > MAX_HEADER_BYTES:
            return HeadersTooLarge(
                f"the request's headers are larger than {MAX_HEADER_BYTES:,} bytes"
            )
        if len(scope.get("query_string", b"")) > MAX_QUERY_BYTES:
            return UriTooLong(f"the query string is longer than {MAX_QUERY_BYTES:,} bytes")
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            return self._too_large()
        return None

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"the request body is larger than {self.max_bytes:,} bytes")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            # The server (h11, httptools) has refused a malformed one already.
            return int(value) if value.isdigit() else None
    return None

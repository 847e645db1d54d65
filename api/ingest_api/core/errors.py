"""The domain's errors: services raise these, the HTTP layer maps them.

    IngestError                  base; never raised itself
    ├── NotFound                 the thing does not exist, or is not yours   -> 404
    ├── Forbidden                your role may not do this                   -> 403
    ├── Unauthenticated          no valid credentials                        -> 401
    ├── Conflict                 the request clashes with the current state  -> 409
    │   └── IllegalTransition    a job state move the state machine refuses
    ├── InvalidRequest           well-formed but unacceptable input          -> 422
    ├── PayloadTooLarge          the request body is larger than allowed     -> 413
    ├── RateLimited              too many requests; retry_after seconds      -> 429
    └── DependencyUnavailable    PostgreSQL, Redis or S3 is unreachable      -> 503

Each carries a stable `code` (the last part of the problem type URI) so
clients can branch on it without parsing prose.
"""

from __future__ import annotations


class IngestError(Exception):
    """Base of the domain errors; `code` names the kind for clients."""

    code = "error"
    title = "Error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(IngestError):
    code = "not-found"
    title = "Not found"


class Forbidden(IngestError):
    code = "forbidden"
    title = "Forbidden"


class Unauthenticated(IngestError):
    code = "unauthenticated"
    title = "Unauthenticated"


class Conflict(IngestError):
    code = "conflict"
    title = "Conflict"


class IllegalTransition(Conflict):
    code = "illegal-transition"
    title = "Illegal state transition"


class InvalidRequest(IngestError):
    code = "invalid-request"
    title = "Invalid request"

    def __init__(self, detail: str, *, field: str | None = None) -> None:
        super().__init__(detail)
        self.field = field


class RateLimited(IngestError):
    code = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, key_kind: str = "ip") -> None:
        super().__init__(detail)
        self.retry_after = retry_after
        self.key_kind = key_kind


class PayloadTooLarge(IngestError):
    code = "payload-too-large"
    title = "Request body too large"


class HeadersTooLarge(IngestError):
    code = "headers-too-large"
    title = "Request headers too large"


class UriTooLong(IngestError):
    code = "uri-too-long"
    title = "Query string too long"


class DependencyUnavailable(IngestError):
    code = "dependency-unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str, *, dependency: str, retry_after: int = 5) -> None:
        super().__init__(detail)
        self.dependency = dependency
        self.retry_after = retry_after

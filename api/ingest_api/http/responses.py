"""A pydantic model sent as JSON, serialized once.

A route that returns a model has FastAPI dump it, validate the dump against
the route's response_model and serialize the result: three passes over what
the route built a moment before. The hot routes return a `ModelResponse`
instead, which FastAPI sends as it is; they still declare `response_model`,
so the OpenAPI schema is unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel
from starlette.responses import Response

# Answers that carry a credential (tokens, a new API key) are never cached
# (RFC 6749 5.1).
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class ModelResponse(Response):
    media_type = "application/json"

    def __init__(
        self, model: BaseModel, *, status_code: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(model.model_dump_json(), status_code=status_code, headers=headers)

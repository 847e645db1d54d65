"""The queue message: what the API announces on the stream and workers read."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from pydantic import BaseModel


class JobMessage(BaseModel):
    """One job to process. Stream fields are strings; `to_fields` and
    `from_fields` are the two ends of that wire format."""

    job_id: uuid.UUID
    request_id: str | None = None
    attempt: int = 1
    # The W3C trace context of the request that queued the job (core.tracing),
    # for the worker to continue its trace; absent while tracing is off.
    traceparent: str | None = None
    tracestate: str | None = None

    @classmethod
    def for_job(
        cls,
        job_id: uuid.UUID,
        *,
        request_id: str | None,
        attempt: int,
        trace_context: Mapping[str, str],
    ) -> JobMessage:
        return cls(
            job_id=job_id,
            request_id=request_id,
            attempt=attempt,
            traceparent=trace_context.get("traceparent"),
            tracestate=trace_context.get("tracestate"),
        )

    @property
    def trace_context(self) -> dict[str, str]:
        carried = {"traceparent": self.traceparent, "tracestate": self.tracestate}
        return {key: value for key, value in carried.items() if value}

    def to_fields(self) -> dict[str, str]:
        fields = {"job_id": str(self.job_id), "attempt": str(self.attempt)}
        if self.request_id:
            fields["request_id"] = self.request_id
        return fields | self.trace_context

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> JobMessage:
        return cls.model_validate(fields)

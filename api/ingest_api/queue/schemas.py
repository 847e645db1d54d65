"""The queue message: what the API announces on the stream and workers read."""

from __future__ import annotations

import uuid

from pydantic import BaseModel


class JobMessage(BaseModel):
    """One job to process. Stream fields are strings; `to_fields` and
    `from_fields` are the two ends of that wire format."""

    job_id: uuid.UUID
    request_id: str | None = None
    attempt: int = 1

    def to_fields(self) -> dict[str, str]:
        fields = {"job_id": str(self.job_id), "attempt": str(self.attempt)}
        if self.request_id:
            fields["request_id"] = self.request_id
        return fields

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> JobMessage:
        return cls.model_validate(fields)

"""Column types that make free text storable on its way into PostgreSQL.

The one boundary where `core.storable` is applied to what the service
writes: every column that can hold text from outside (a log line in a
job's summary, a failure reason quoting a library, a label, a user name in
an event's actor) is declared with one of these types, so no caller has to
remember to clean what it writes, and none can forget.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Dialect, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

from ingest_api.core.storable import storable_json, storable_text


class StorableText(TypeDecorator[str]):
    """`text`, with NUL and lone surrogates replaced on the way in."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else storable_text(value)


class StorableJSONB(TypeDecorator[Any]):
    """`jsonb`, with NUL and lone surrogates replaced in every string and key.

    Comparisons (`contains`, `[...]`) are JSONB's own: a TypeDecorator lends
    its implementation's operators."""

    impl = JSONB
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return storable_json(value)

"""Plain text: the fallback for a file no structured format claims.

Every line is kept as a message, so none is "unparsed". Many application
logs still open with a timestamp and a level (`2024-03-01 12:00:00,123 ERROR
...`, `[2024-03-01T12:00:00Z] [warn] ...`); those two are taken when present
and the message is what follows them. A level word counts after a
timestamp, or when it is upper case or marked (`[warn]`, `error:`), so that
a sentence starting "Error handling ..." keeps its level unknown.
"""

from __future__ import annotations

import re

from ingest_api.processing.formats.levels import UNKNOWN, level_from_name
from ingest_api.processing.formats.timestamps import iso_to_utc
from ingest_api.processing.models import Record
from ingest_api.processing.splitting import LineBatch

_LEADING_TIME = re.compile(
    r"\[?(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d(?::?\d\d)?)?)\]?\s*",
    re.ASCII,
)
_LEADING_LEVEL = re.compile(
    r"([\[<(])?(trace|debug|info|notice|warn|warning|error|err|crit|critical|fatal|alert"
    r"|emerg|emergency|panic)([\]>):])?(?:\s+|$)",
    re.IGNORECASE,
)


class PlainTextParser:
    def parse(self, batch: LineBatch) -> list[Record]:
        records: list[Record] = []
        for number, line in enumerate(batch.texts(), batch.first_number):
            if not line or line.isspace():
                continue
            records.append(_parse(number, line))
        return records


def _parse(number: int, line: str) -> Record:
    timestamp = None
    level = UNKNOWN
    start = 0
    time = _LEADING_TIME.match(line)
    if time is not None:
        timestamp = iso_to_utc(time.group(1))
        if timestamp is not None:
            start = time.end()
    named = _LEADING_LEVEL.match(line, start)
    if named is not None:
        opening, word, closing = named.groups()
        # Without a timestamp before it, a bare "Error handling ..." is prose.
        if timestamp is not None or opening or closing or word.isupper():
            level = level_from_name(word) or UNKNOWN
            start = named.end()
    return Record(number, timestamp, level, line[start:], {})

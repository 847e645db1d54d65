"""logfmt: `key=value` pairs separated by spaces (Heroku, Go's slog and logrus text, Grafana).

Values may be bare (`status=200`), quoted with Go/JSON escapes
(`msg="a \\"quoted\\" word"`), empty (`user=`), or absent (a bare key, `debug`,
which reads as true). A line parses when pairs make up all of it and at
least one has a value; detection asks for two, so that prose with one `=`
in it does not pass for logfmt.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from ingest_api.processing.formats.records import (
    merge_by_line,
    records_from_fields,
    unparsed_record,
)
from ingest_api.processing.models import Record
from ingest_api.processing.splitting import LineBatch

# One token: a key with an optional value (quoted as an unrolled loop, which
# sre runs far faster than an alternation), or anything else up to a space,
# which makes the line no logfmt. One findall walks the whole line.
_TOKEN = re.compile(r'([^\s="]+)(?:(=)("[^"\\]*(?:\\.[^"\\]*)*"|[^\s"]*))?(?=\s|$)|(\S+)')
_decode_string = msgspec.json.Decoder(str).decode


def recognises(line: str) -> bool:
    fields = parse_pairs(line)
    return fields is not None and sum(1 for value in fields.values() if value is not True) >= 2


def parse_pairs(line: str) -> dict[str, Any] | None:
    """The pairs of a logfmt line, or None if it is not one."""
    fields: dict[str, Any] = {}
    has_value = False
    for key, equals, value, stray in _TOKEN.findall(line):
        if stray:
            return None
        if not equals:
            fields[key] = True
            continue
        has_value = True
        fields[key] = _unquote(value) if value.startswith('"') else value
    return fields if has_value else None


class LogfmtParser:
    def parse(self, batch: LineBatch) -> list[Record]:
        numbers: list[int] = []
        objects: list[dict[str, Any]] = []
        unparsed: list[Record] = []
        for number, line in enumerate(batch.texts(), batch.first_number):
            if not line or line.isspace():
                continue
            fields = parse_pairs(line)
            if fields is None:
                unparsed.append(unparsed_record(number, line))
            else:
                numbers.append(number)
                objects.append(fields)
        return merge_by_line(records_from_fields(numbers, objects), unparsed)


def _unquote(value: str) -> str:
    if "\\" not in value:
        return value[1:-1]
    try:
        return _decode_string(value)
    except msgspec.DecodeError:  # a Go escape JSON lacks (\a, \x41): keep it as written
        return value[1:-1]

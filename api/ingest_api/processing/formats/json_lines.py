"""JSON lines: one JSON object per line (Bunyan, pino, zap, logrus, Docker's json-file...).

The decoder is built once and reused: msgspec's reused decoder is several
times faster than `json.loads`, and decoding is most of this format's cost.
A batch is decoded with one `map`; only a batch holding a line that is not
a JSON object (blank, truncated, prose, `42`) is decoded line by line. Such
a line is unparsed.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ingest_api.processing.formats.records import (
    merge_by_line,
    records_from_fields,
    unparsed_record,
)
from ingest_api.processing.models import Record
from ingest_api.processing.splitting import LineBatch

_decode_object = msgspec.json.Decoder(dict[str, Any]).decode
# What decoding one line may raise: malformed JSON, and nesting deeper than
# the interpreter's recursion limit (msgspec's guard raises RecursionError).
_UNDECODABLE = (msgspec.DecodeError, RecursionError)


def recognises(line: str) -> bool:
    try:
        _decode_object(line)
    except _UNDECODABLE:
        return False
    return True


class JsonLinesParser:
    def parse(self, batch: LineBatch) -> list[Record]:
        try:
            objects = list(map(_decode_object, batch.lines))
        except _UNDECODABLE:
            return self._parse_one_by_one(batch)
        first = batch.first_number
        return records_from_fields(range(first, first + len(objects)), objects)

    def _parse_one_by_one(self, batch: LineBatch) -> list[Record]:
        numbers: list[int] = []
        objects: list[dict[str, Any]] = []
        unparsed: list[Record] = []
        for number, line in enumerate(batch.lines, batch.first_number):
            try:
                objects.append(_decode_object(line))
            except _UNDECODABLE:
                if line and not line.isspace():
                    unparsed.append(unparsed_record(number, batch.text(number)))
                continue
            numbers.append(number)
        return merge_by_line(records_from_fields(numbers, objects), unparsed)

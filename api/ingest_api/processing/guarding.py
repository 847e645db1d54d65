"""A problem inside one line costs that line, never the file.

The parsers are written for speed over whole batches and handle the odd
lines they know of (a timestamp out of range, nesting too deep, a broken
escape) themselves. This module is the net under them for the lines
nobody foresaw: a batch whose parsing raises is parsed again line by line,
and a line that still raises is kept as unparsed (counted, and sampled in
the summary), exactly as a line the format does not recognise. Detection
treats such a line as one the format does not recognise.

It catches `Exception`, not `BaseException`: a worker's shutdown or a
KeyboardInterrupt must still get through. Whatever the file holds, only
the errors of `processing.errors` (about the file as a whole) leave the
pipeline from parsing.
"""

from __future__ import annotations

from collections.abc import Callable

from ingest_api.processing.formats.records import LineParser, unparsed_record
from ingest_api.processing.models import Record
from ingest_api.processing.splitting import LineBatch


def parse_guarded(parser: LineParser, batch: LineBatch) -> list[Record]:
    """`parser.parse(batch)`; on an error, each line alone, and a line that
    still fails becomes an unparsed record."""
    try:
        return parser.parse(batch)
    except Exception:  # any error of one line must stay that line's
        return _parse_line_by_line(parser, batch)


def recognises_guarded(recognises: Callable[[str], bool], line: str) -> bool:
    """`recognises(line)`, with a line that makes it raise not recognised."""
    try:
        return recognises(line)
    except Exception:  # see parse_guarded
        return False


def _parse_line_by_line(parser: LineParser, batch: LineBatch) -> list[Record]:
    records: list[Record] = []
    for number, line in enumerate(batch.lines, batch.first_number):
        alone = LineBatch(number, [line], batch.truncated & {number})
        try:
            records.extend(parser.parse(alone))
        except Exception:  # see parse_guarded
            records.append(unparsed_record(number, alone.text(number)))
    return records

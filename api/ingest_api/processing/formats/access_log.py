"""Apache and Nginx access logs: the Common and Combined Log Formats.

    127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326 "ref" "agent"

The message is the request line; the level follows the status (5xx error,
4xx warning, the rest info). Whatever a custom format appends after the
user agent is kept as `extra`.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ingest_api.processing.formats.levels import level_from_http_status
from ingest_api.processing.formats.records import unparsed_record
from ingest_api.processing.formats.timestamps import clf_to_utc
from ingest_api.processing.models import Record
from ingest_api.processing.splitting import LineBatch

# "..." with backslash escapes, written as an unrolled loop: sre runs a
# character class in one C loop but an alternation one character at a time.
_QUOTED = r'"([^"\\]*(?:\\.[^"\\]*)*)"'
# The size has at most 19 digits (a signed 64-bit count): a longer run of
# digits is no size, and int() of thousands of them is slow, then refused.
_ACCESS = re.compile(
    rf"(\S+) (\S+) (\S+) \[([^\]]+)\] {_QUOTED} (\d{{3}}) (\d{{1,19}}|-)"
    rf"(?: {_QUOTED} {_QUOTED})?(?: (.*))?",
    re.ASCII,
)
_NIL = "-"


def recognises(line: str) -> bool:
    return _parse(0, line, {}) is not None


class AccessLogParser:
    def __init__(self) -> None:
        # Times repeat for every request within a second: convert each once.
        self._times: dict[str, datetime | None] = {}

    def parse(self, batch: LineBatch) -> list[Record]:
        records: list[Record] = []
        times = self._times
        for number, line in enumerate(batch.texts(), batch.first_number):
            if not line or line.isspace():
                continue
            records.append(_parse(number, line, times) or unparsed_record(number, line))
        return records


def _parse(number: int, line: str, times: dict[str, datetime | None]) -> Record | None:
    match = _ACCESS.fullmatch(line)
    if match is None:
        return None
    remote, ident, user, time, request, status, size, referer, agent, extra = match.groups()
    timestamp = clf_to_utc(time, times)
    if timestamp is None:
        return None
    code = int(status)
    parts = request.split(" ")
    method, path, protocol = parts if len(parts) == 3 else (None, None, None)
    fields: dict[str, Any] = {
        "remote_addr": remote,
        "ident": _value(ident),
        "user": _value(user),
        "method": method,
        "path": path,
        "protocol": protocol,
        "status": code,
        "bytes": None if size == _NIL else int(size),
        "referer": _value(referer),
        "user_agent": _value(agent),
    }
    if extra:
        fields["extra"] = extra
    return Record(number, timestamp, level_from_http_status(code), request, fields)


def _value(field: str | None) -> str | None:
    return None if field is None or field == _NIL else field

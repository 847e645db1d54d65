"""Syslog lines, both dialects: RFC 5424 and the older BSD format of RFC 3164.

    RFC 5424  <165>1 2003-10-11T22:14:15.003Z host app 1234 ID47 [id k="v"] message
    RFC 3164  <34>Oct 11 22:14:15 host su[123]: message

The PRI carries facility (PRI >> 3) and severity (PRI & 7). RFC 3164
timestamps have neither year nor zone (see `SyslogClock`); lines written to
files by a local syslog daemon often lack the PRI, so it is optional there,
and such a line's level is unknown.

The parsers are the worker's hot loop for syslog files, so each line costs
one regex match and one call that builds its record; RFC 3339 timestamps
are converted in C (`datetime.fromisoformat`), RFC 3164 ones once per
distinct second (`SyslogClock` keeps them). Parsing a batch in columns
with `map`, as `records` does for key-value formats, was measured slower
here: it keeps thousands of match objects and tuples alive at once, where
line by line they are freed and reused while still in the CPU's cache.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from ingest_api.processing.formats.levels import SYSLOG_SEVERITIES, UNKNOWN
from ingest_api.processing.formats.records import unparsed_record
from ingest_api.processing.formats.timestamps import SyslogClock, iso_to_utc
from ingest_api.processing.models import LevelName, Record
from ingest_api.processing.splitting import LineBatch

FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
    "uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
)  # fmt: skip
# The largest PRI: facility 23 (local7), severity 7 (debug).
_MAX_PRI = len(FACILITIES) * 8 - 1
_NIL = "-"
_BOM = "\ufeff"

# Quoted values as unrolled loops ("[^"\\]*(?:\\.[^"\\]*)*"): sre runs a character
# class in one C loop but an alternation one character at a time. The possessive
# quantifiers (`*+`, `++`) spare sre the bookkeeping for backtracking that could
# never succeed: each run stops where the next part needs a character the run
# cannot hold, so giving characters back cannot make a different match.
_QUOTED = r'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_SD_ELEMENT = rf'\[[^\]"]*+(?:{_QUOTED}[^\]"]*+)*+\]'
# The usual structured data, one element without escapes, is also taken apart
# by the line's own match (its id and its parameters' text, groups 8 and 9),
# which spares `_SD_ELEMENTS` a second pass over it. The id and names are
# written as `_SD_ELEMENTS` and `_SD_PARAMS` read them (Unicode `\s`), so the
# two ways always give the same result; anything else takes the general branch.
_PLAIN_SD_ELEMENT = r'(?u:\[([^\s\]"]+)((?: [^\s=\]"]+="[^"\\]*")*)\])(?= |\Z)'
_RFC5424 = re.compile(
    rf"<(\d{{1,3}})>1 (\S++) (\S++) (\S++) (\S++) (\S++) "
    rf"({_NIL}|{_PLAIN_SD_ELEMENT}|(?:{_SD_ELEMENT})++)(?: (.*))?",
    re.ASCII,
)
# The element id stays an ordinary `+`: it may take a `"`, and then has to give
# it back for the parameters to match.
_SD_ELEMENTS = re.compile(rf'\[([^\s\]]+)([^\]"]*+(?:{_QUOTED}[^\]"]*+)*+)\]')
_SD_PARAMS = re.compile(r'([^\s=\]"]++)="([^"\\]*+(?:\\.[^"\\]*+)*+)"')
_SD_ESCAPE = re.compile(r'\\(["\\\]])')

# After the hostname, a tag (`app[pid]: message`, groups 4-6) or, failing
# that, the rest of the line as the message (group 7); one match for both is
# cheaper than matching the rest again. The tag's `\s` is Unicode (`(?u:)`).
_RFC3164 = re.compile(
    r"(?:<(\d{1,3})>)?([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (\S+) ?"
    r"(?u:([^\s:\[\]]+)(?:\[([^\]\s]*)\])?: ?(.*)|(.*))",
    re.ASCII,
)

# Every valid PRI text (`\d{1,3}`, so leading zeros too) with its severity and
# facility: a dict lookup costs a third of `int()` and the range check.
_PRIORITIES: dict[str, tuple[LevelName, str]] = {
    f"{priority:0{width}d}": (SYSLOG_SEVERITIES[priority & 7], FACILITIES[priority >> 3])
    for priority in range(_MAX_PRI + 1)
    for width in (1, 2, 3)
}


def recognises_rfc5424(line: str) -> bool:
    return line.startswith("<") and _parse_rfc5424(0, line) is not None


def recognises_rfc3164(line: str) -> bool:
    return _parse_rfc3164(0, line, _DETECTION_CLOCK) is not None


class Rfc5424Parser:
    def parse(self, batch: LineBatch) -> list[Record]:
        records: list[Record] = []
        append = records.append
        for number, line in enumerate(batch.texts(), batch.first_number):
            record = _parse_rfc5424(number, line)
            if record is not None:
                append(record)
            # A line that parsed is never blank: only the others need the check.
            elif line and not line.isspace():
                append(unparsed_record(number, line))
        return records


class Rfc3164Parser:
    def __init__(self, *, reference_time: datetime) -> None:
        self._clock = SyslogClock(reference_time)

    def parse(self, batch: LineBatch) -> list[Record]:
        records: list[Record] = []
        append = records.append
        clock = self._clock
        for number, line in enumerate(batch.texts(), batch.first_number):
            record = _parse_rfc3164(number, line, clock)
            if record is not None:
                append(record)
            elif line and not line.isspace():
                append(unparsed_record(number, line))
        return records


def _parse_rfc5424(number: int, line: str) -> Record | None:
    match = _RFC5424.fullmatch(line)
    if match is None:
        return None
    pri, stamp, hostname, app_name, procid, msgid, data, element_id, params, message = (
        match.groups()
    )
    priority = _PRIORITIES.get(pri)
    if priority is None:
        return None
    level, facility = priority
    timestamp = None
    if stamp != _NIL:
        timestamp = _rfc3339_to_utc(stamp)
        if timestamp is None:
            return None
    structured_data = None
    if element_id is not None:
        structured_data = {element_id: dict(_SD_PARAMS.findall(params))}
    elif data != _NIL:
        structured_data = _structured_data(data)
    fields: dict[str, Any] = {
        "facility": facility,
        "hostname": None if hostname == _NIL else hostname,
        "app_name": None if app_name == _NIL else app_name,
        "procid": None if procid == _NIL else procid,
        "msgid": None if msgid == _NIL else msgid,
        "structured_data": structured_data,
    }
    # RFC 5424 marks a UTF-8 message with a byte order mark.
    text = "" if message is None else message.removeprefix(_BOM)
    return Record(number, timestamp, level, text, fields)


def _rfc3339_to_utc(stamp: str) -> datetime | None:
    """`iso_to_utc`, with the usual case (a UTC time, `...Z`) not leaving C."""
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return iso_to_utc(stamp)  # epoch digits, or None
    return moment if moment.tzinfo is UTC else iso_to_utc(stamp)


def _structured_data(data: str) -> dict[str, dict[str, str]]:
    return {
        element_id: _params(params) if "\\" in params else dict(_SD_PARAMS.findall(params))
        for element_id, params in _SD_ELEMENTS.findall(data)
    }


def _params(params: str) -> dict[str, str]:
    """An element's parameters, with their escapes (`\\"`, `\\\\`, `\\]`) undone."""
    return {
        name: _SD_ESCAPE.sub(r"\1", value) if "\\" in value else value
        for name, value in _SD_PARAMS.findall(params)
    }


def _parse_rfc3164(number: int, line: str, clock: SyslogClock) -> Record | None:
    match = _RFC3164.fullmatch(line)
    if match is None:
        return None
    pri, stamp, hostname, app_name, procid, message, untagged = match.groups()
    timestamp = clock.to_utc(stamp)
    if timestamp is None:
        return None
    if app_name is None:
        message = untagged
    if pri is None:
        fields = {"hostname": hostname, "app_name": app_name, "procid": procid}
        return Record(number, timestamp, UNKNOWN, message, fields)
    priority = _PRIORITIES.get(pri)
    if priority is None:
        return None
    level, facility = priority
    fields = {"facility": facility, "hostname": hostname, "app_name": app_name, "procid": procid}
    return Record(number, timestamp, level, message, fields)


# Detection has no reference time; any year serves to tell a timestamp's shape.
_DETECTION_CLOCK = SyslogClock(datetime(2000, 12, 31))

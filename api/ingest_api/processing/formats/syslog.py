"""Syslog lines, both dialects: RFC 5424 and the older BSD format of RFC 3164.

    RFC 5424  <165>1 2003-10-11T22:14:15.003Z host app 1234 ID47 [id k="v"] message
    RFC 3164  <34>Oct 11 22:14:15 host su[123]: message

The PRI carries facility (PRI >> 3) and severity (PRI & 7). RFC 3164
timestamps have neither year nor zone (see `SyslogClock`); lines written to
files by a local syslog daemon often lack the PRI, so it is optional there,
and such a line's level is unknown.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ingest_api.processing.formats.levels import SYSLOG_SEVERITIES, UNKNOWN
from ingest_api.processing.formats.records import unparsed_record
from ingest_api.processing.formats.timestamps import SyslogClock, iso_to_utc
from ingest_api.processing.models import Record
from ingest_api.processing.splitting import LineBatch

FACILITIES = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
    "uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
)  # fmt: skip
# The largest PRI: facility 23 (local7), severity 7 (debug).
_MAX_PRI = len(FACILITIES) * 8 - 1
_NIL = "-"

# Quoted values as unrolled loops ("[^"\\]*(?:\\.[^"\\]*)*"): sre runs a character
# class in one C loop but an alternation one character at a time.
_QUOTED = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_SD_ELEMENT = rf'\[[^\]"]*(?:{_QUOTED}[^\]"]*)*\]'
_RFC5424 = re.compile(
    rf"<(\d{{1,3}})>1 (\S+) (\S+) (\S+) (\S+) (\S+) ({_NIL}|(?:{_SD_ELEMENT})+)(?: (.*))?",
    re.ASCII,
)
_SD_ELEMENTS = re.compile(rf'\[([^\s\]]+)([^\]"]*(?:{_QUOTED}[^\]"]*)*)\]')
_SD_PARAMS = re.compile(r'([^\s=\]"]+)="([^"\\]*(?:\\.[^"\\]*)*)"')
_SD_ESCAPE = re.compile(r'\\(["\\\]])')

_RFC3164 = re.compile(
    r"(?:<(\d{1,3})>)?([A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (\S+) ?(.*)", re.ASCII
)
_TAG = re.compile(r"([^\s:\[\]]+)(?:\[([^\]\s]*)\])?: ?(.*)")


def recognises_rfc5424(line: str) -> bool:
    return line.startswith("<") and _parse_rfc5424(0, line) is not None


def recognises_rfc3164(line: str) -> bool:
    return _parse_rfc3164(0, line, _DETECTION_CLOCK) is not None


class Rfc5424Parser:
    def parse(self, batch: LineBatch) -> list[Record]:
        records: list[Record] = []
        for number, line in enumerate(batch.texts(), batch.first_number):
            if not line or line.isspace():
                continue
            records.append(_parse_rfc5424(number, line) or unparsed_record(number, line))
        return records


class Rfc3164Parser:
    def __init__(self, *, reference_time: datetime) -> None:
        self._clock = SyslogClock(reference_time)

    def parse(self, batch: LineBatch) -> list[Record]:
        records: list[Record] = []
        clock = self._clock
        for number, line in enumerate(batch.texts(), batch.first_number):
            if not line or line.isspace():
                continue
            records.append(_parse_rfc3164(number, line, clock) or unparsed_record(number, line))
        return records


def _parse_rfc5424(number: int, line: str) -> Record | None:
    match = _RFC5424.fullmatch(line)
    if match is None:
        return None
    pri, stamp, hostname, app_name, procid, msgid, data, message = match.groups()
    priority = int(pri)
    if priority > _MAX_PRI:
        return None
    timestamp = None
    if stamp != _NIL:
        timestamp = iso_to_utc(stamp)
        if timestamp is None:
            return None
    fields: dict[str, Any] = {
        "facility": FACILITIES[priority >> 3],
        "hostname": _value(hostname),
        "app_name": _value(app_name),
        "procid": _value(procid),
        "msgid": _value(msgid),
        "structured_data": None if data == _NIL else _structured_data(data),
    }
    # RFC 5424 marks a UTF-8 message with a byte order mark.
    text = (message or "").removeprefix("\ufeff")
    return Record(number, timestamp, SYSLOG_SEVERITIES[priority & 7], text, fields)


def _parse_rfc3164(number: int, line: str, clock: SyslogClock) -> Record | None:
    match = _RFC3164.fullmatch(line)
    if match is None:
        return None
    pri, stamp, hostname, rest = match.groups()
    level = UNKNOWN
    fields: dict[str, Any] = {}
    if pri is not None:
        priority = int(pri)
        if priority > _MAX_PRI:
            return None
        level = SYSLOG_SEVERITIES[priority & 7]
        fields["facility"] = FACILITIES[priority >> 3]
    timestamp = clock.to_utc(stamp)
    if timestamp is None:
        return None
    fields["hostname"] = hostname
    tag = _TAG.fullmatch(rest)
    if tag is None:
        fields["app_name"] = fields["procid"] = None
        return Record(number, timestamp, level, rest, fields)
    app_name, procid, message = tag.groups()
    fields["app_name"] = app_name
    fields["procid"] = procid
    return Record(number, timestamp, level, message, fields)


def _structured_data(data: str) -> dict[str, dict[str, str]]:
    return {
        element_id: {
            name: _SD_ESCAPE.sub(r"\1", value) if "\\" in value else value
            for name, value in _SD_PARAMS.findall(params)
        }
        for element_id, params in _SD_ELEMENTS.findall(data)
    }


def _value(field: str) -> str | None:
    return None if field == _NIL else field


# Detection has no reference time; any year serves to tell a timestamp's shape.
_DETECTION_CLOCK = SyslogClock(datetime(2000, 12, 31))

"""One parser per log format, and the registry that picks one by `LogFormat`.

Each format module offers a parser (`parse(batch) -> records`) and a
`recognises(line)` check that format detection uses, so detection and
parsing can never disagree on what a line of the format is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ingest_api.processing.formats import access_log, json_lines, logfmt, plain_text, syslog
from ingest_api.processing.formats.records import LineParser
from ingest_api.processing.models import LogFormat

# The structured formats, in the order detection prefers them on a tie.
RECOGNISERS: tuple[tuple[LogFormat, Callable[[str], bool]], ...] = (
    (LogFormat.JSON_LINES, json_lines.recognises),
    (LogFormat.SYSLOG_RFC5424, syslog.recognises_rfc5424),
    (LogFormat.SYSLOG_RFC3164, syslog.recognises_rfc3164),
    (LogFormat.ACCESS_LOG, access_log.recognises),
    (LogFormat.LOGFMT, logfmt.recognises),
)


def parser_for(log_format: LogFormat, *, reference_time: datetime) -> LineParser:
    """A fresh parser (parsers keep per-file caches) for one file of `log_format`."""
    match log_format:
        case LogFormat.JSON_LINES:
            return json_lines.JsonLinesParser()
        case LogFormat.LOGFMT:
            return logfmt.LogfmtParser()
        case LogFormat.SYSLOG_RFC5424:
            return syslog.Rfc5424Parser()
        case LogFormat.SYSLOG_RFC3164:
            return syslog.Rfc3164Parser(reference_time=reference_time)
        case LogFormat.ACCESS_LOG:
            return access_log.AccessLogParser()
        case LogFormat.PLAIN_TEXT:
            return plain_text.PlainTextParser()

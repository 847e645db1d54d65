"""Every timestamp the parsers meet, as an aware UTC datetime.

Records carry datetimes, not strings: msgspec writes them as RFC 3339 in C
(`2024-03-01T12:00:00.123000Z`, or `...:00Z` without a fraction), and
`datetime.fromisoformat` (C, and since 3.11 complete ISO 8601) parses them.
Whole batches are converted with `map` so that the common case, a file of
ISO timestamps, costs no Python code per line; formats whose timestamps
are not ISO convert each distinct second once and cache it.

Rules for what a timestamp does not say: no zone means UTC; an RFC 3164
timestamp has no year either, see `SyslogClock`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from itertools import compress, repeat
from operator import attrgetter
from typing import cast

import msgspec

MONTHS = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
        start=1,
    )
}
# Bounds each cache of converted seconds: a day of distinct seconds, a few MiB.
_CACHE_ENTRIES = 100_000

_CLF = re.compile(r"(\d\d)/([A-Z][a-z]{2})/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-]\d\d)(\d\d)", re.ASCII)
_SYSLOG_STAMP = re.compile(r"([A-Z][a-z]{2}) ([ \d]\d) (\d\d):(\d\d):(\d\d)", re.ASCII)

# An epoch number's magnitude tells its unit: seconds until the year 5138,
# then milliseconds, microseconds, nanoseconds.
_EPOCH_UNITS = ((1e11, 1), (1e14, 1_000), (1e17, 1_000_000), (1e20, 1_000_000_000))
# Digits of the largest epoch number worth converting (under 1e20): a longer
# string of digits is no timestamp, and `int()` of thousands of them costs
# quadratic time before it refuses (past 4,300 digits) with a ValueError.
_EPOCH_DIGITS = 20
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_tzinfo_of = attrgetter("tzinfo")


def format_timestamp(moment: datetime) -> str:
    """The string a record's timestamp becomes in the output, for the summary to match."""
    return str(msgspec.to_builtins(moment))


def timestamps_to_utc(values: list[object]) -> list[datetime | None]:
    """Convert many decoded values at once (see `timestamp_to_utc`): the ISO
    strings in bulk, anything else (a number, a missing key) one by one."""
    is_text = list(map(isinstance, values, repeat(str)))
    texts = values if all(is_text) else list(compress(values, is_text))
    try:
        # C-level for the common case; a string that is no ISO timestamp
        # raises ValueError, and then every value goes one by one.
        parsed = list(map(datetime.fromisoformat, cast("list[str]", texts)))
    except ValueError:
        return list(map(timestamp_to_utc, values))
    moments: list[datetime | None] = (
        cast("list[datetime | None]", parsed)
        if set(map(_tzinfo_of, parsed)) == {UTC}
        else list(map(_as_utc, parsed))
    )
    if len(moments) == len(values):
        return moments
    converted = iter(moments)
    return [
        next(converted) if text else timestamp_to_utc(value)
        for value, text in zip(values, is_text, strict=True)
    ]


def timestamp_to_utc(value: object) -> datetime | None:
    """An ISO 8601 string, or a number since the epoch, as UTC; None for anything else."""
    # `type() is`: JSON `true` is a bool, and bool is an int.
    if type(value) is str:
        return iso_to_utc(value)
    if type(value) is int or type(value) is float:
        return epoch_to_utc(value)
    return None


def iso_to_utc(text: str) -> datetime | None:
    """An ISO 8601 / RFC 3339 timestamp (or epoch digits) as UTC; None if it is none."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        if text.isascii() and text.isdigit() and len(text) <= _EPOCH_DIGITS:
            return epoch_to_utc(int(text))
        return None
    return _as_utc(moment)


def epoch_to_utc(value: float) -> datetime | None:
    """Seconds, milliseconds, microseconds or nanoseconds since 1970, told by magnitude."""
    magnitude = abs(value)
    per_second = next((unit for bound, unit in _EPOCH_UNITS if magnitude < bound), None)
    if per_second is None:  # NaN, or past the year 5138 in any unit
        return None
    try:
        if isinstance(value, int):
            seconds, fraction = divmod(value, per_second)
            micros = fraction * 1_000_000 // per_second
            return _EPOCH + timedelta(seconds=seconds, microseconds=micros)
        return _EPOCH + timedelta(seconds=value / per_second)
    except OverflowError:
        return None


def clf_to_utc(text: str, cache: dict[str, datetime | None]) -> datetime | None:
    """An access-log time (`10/Oct/2000:13:55:36 -0700`) as UTC; one cache per file."""
    try:
        return cache[text]
    except KeyError:
        pass
    _make_room(cache)
    moment = cache[text] = _clf(text)
    return moment


class SyslogClock:
    """Years for RFC 3164 timestamps (`Mar  1 12:00:00`), which carry neither year nor zone.

    The rule: the time is UTC, and the year is the latest one that does not
    put it more than a day after `reference_time`. Pass the time the file was
    uploaded, not the current time, so that processing the file again gives
    the same result. The day of slack absorbs senders that log in local time
    east of UTC; a log from late December read in early January lands in
    December of the year before, as it should.
    """

    # A timestamp up to this far after the reference still belongs to its year.
    SLACK = timedelta(days=1)

    def __init__(self, reference_time: datetime) -> None:
        reference = _as_utc(reference_time)
        if reference is None:
            raise ValueError(f"reference time {reference_time} is out of range")
        self._latest = reference + self.SLACK
        self._cache: dict[str, datetime | None] = {}

    def to_utc(self, stamp: str) -> datetime | None:
        try:
            return self._cache[stamp]
        except KeyError:
            pass
        _make_room(self._cache)
        moment = self._cache[stamp] = self._convert(stamp)
        return moment

    def _convert(self, stamp: str) -> datetime | None:
        match = _SYSLOG_STAMP.fullmatch(stamp)
        month = MONTHS.get(match.group(1)) if match else None
        if match is None or month is None:
            return None
        day, hour, minute, second = (int(part) for part in match.groups()[1:])
        for year in (self._latest.year, self._latest.year - 1):
            try:
                moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
            except ValueError:  # 29 February outside a leap year, 31 April, 25 o'clock
                continue
            if moment <= self._latest:
                return moment
        return None


def _as_utc(moment: datetime) -> datetime | None:
    """`moment` in UTC; None when that falls outside the years 1-9999
    (`0001-01-01T00:00:00+01:00` is a valid ISO time of the year 0)."""
    zone = moment.tzinfo
    if zone is UTC:
        return moment
    if zone is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def _clf(text: str) -> datetime | None:
    match = _CLF.fullmatch(text)
    month = MONTHS.get(match.group(2)) if match else None
    if match is None or month is None:
        return None
    day, _, year, hour, minute, second, zone_hours, zone_minutes = match.groups()
    offset = timedelta(hours=abs(int(zone_hours)), minutes=int(zone_minutes))
    try:
        local = datetime(int(year), month, int(day), int(hour), int(minute), int(second))
        utc = local - offset if zone_hours[0] == "+" else local + offset
    except (ValueError, OverflowError):  # 31 April; the year 1 at +0100 is the year 0
        return None
    return utc.replace(tzinfo=UTC)


def _make_room(cache: dict[str, datetime | None]) -> None:
    # Clearing beats evicting one by one: a log moves forward in time, so
    # the seconds cached so far are rarely needed again.
    if len(cache) >= _CACHE_ENTRIES:
        cache.clear()

"""Map the many ways logs name a severity onto a `Level` (as its `LevelName`).

Names are looked up in one dict that already holds the usual spellings
(`warn`, `WARN`, `Warn`), so the common case costs one C-level lookup per
line (a whole batch goes through `map`); only an unusual spelling is
lower-cased first. Numbers follow the two conventions seen in JSON logs:
0-7 are syslog severities, 10-60 are pino/bunyan levels (10 trace ... 60
fatal). Python's logging numbers (10 debug ... 50 critical) overlap pino's
and lose: pino and bunyan write numbers into JSON, Python's formatters
write names.
"""

from __future__ import annotations

from typing import cast

from ingest_api.processing.models import Level, LevelName

_ALIASES: dict[Level, tuple[str, ...]] = {
    Level.EMERGENCY: ("emergency", "emerg", "panic"),
    Level.ALERT: ("alert",),
    Level.CRITICAL: ("critical", "crit", "fatal"),
    Level.ERROR: ("error", "err"),
    Level.WARNING: ("warning", "warn"),
    Level.NOTICE: ("notice",),
    Level.INFO: ("info", "informational", "information"),
    Level.DEBUG: ("debug", "dbg"),
    Level.TRACE: ("trace",),
}

_BY_NAME: dict[str, LevelName] = {
    spelling: LevelName(level.value)
    for level, names in _ALIASES.items()
    for name in names
    for spelling in (name, name.upper(), name.capitalize())
}

# Syslog severity (PRI & 7) 0-7, most severe first: the order of `Level`.
SYSLOG_SEVERITIES: tuple[LevelName, ...] = tuple(LevelName(level.value) for level in Level)[:8]
UNKNOWN = LevelName(Level.UNKNOWN.value)

_PINO_LEVELS = {
    number: LevelName(level.value)
    for number, level in (
        (10, Level.TRACE),
        (20, Level.DEBUG),
        (30, Level.INFO),
        (40, Level.WARNING),
        (50, Level.ERROR),
        (60, Level.CRITICAL),
    )
}
_ERROR, _WARNING, _INFO = (
    LevelName(level.value) for level in (Level.ERROR, Level.WARNING, Level.INFO)
)


def level_from_name(name: str) -> LevelName | None:
    """The level a name means, in any case; None for a name we do not know."""
    found = _BY_NAME.get(name)
    if found is None:
        found = _BY_NAME.get(name.strip().lower())
    return found


def level_from_number(number: int) -> LevelName | None:
    """A syslog severity (0-7) or a pino/bunyan level (10-60); None otherwise."""
    if 0 <= number < len(SYSLOG_SEVERITIES):
        return SYSLOG_SEVERITIES[number]
    return _PINO_LEVELS.get(number)


def levels_from_values(values: list[object]) -> list[LevelName | None]:
    """Convert many decoded values at once (see `level_from_value`)."""
    try:
        # C-level for the common case, every value a usual spelling; any
        # other value finds nothing, and an unhashable one raises TypeError.
        levels = list(map(_BY_NAME.get, cast("list[str]", values)))
    except TypeError:
        return list(map(level_from_value, values))
    if None in levels:
        for index, level in enumerate(levels):
            if level is None:
                levels[index] = level_from_value(values[index])
    return levels


def level_from_value(value: object) -> LevelName | None:
    """A level from a decoded JSON or logfmt value: a name or a whole number."""
    # `type() is`, not isinstance: JSON `true` is a bool, and bool is an int.
    if type(value) is str:
        return level_from_name(value)
    if type(value) is int:
        return level_from_number(value)
    return None


def level_from_http_status(status: int) -> LevelName:
    """Access logs: server errors are errors, client errors warnings, the rest info."""
    if status >= 500:
        return _ERROR
    if status >= 400:
        return _WARNING
    return _INFO

"""What every format's parser shares: the parser's shape, the unparsed record,
and how the well-known keys of key-value formats (JSON lines, logfmt) become
each record's timestamp, level and message.

That last step runs per batch, not per line: each key is popped from all
the batch's objects with `map`, converted in bulk, and the records are
built with `map` too, so a batch whose lines agree on their keys (nearly
every file) costs no Python bytecode per line. Lines that differ take a
slower path for themselves only.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from itertools import repeat
from operator import attrgetter
from typing import Any, Protocol, TypeVar, cast

from ingest_api.processing.formats.levels import UNKNOWN, levels_from_values
from ingest_api.processing.formats.timestamps import timestamps_to_utc
from ingest_api.processing.models import Record
from ingest_api.processing.splitting import LineBatch

# The keys that name a line's parts, in order of preference: the first one
# present in a line is taken. A value that does not convert stays in fields.
LEVEL_KEYS = ("level", "severity", "lvl", "levelname")
TIME_KEYS = ("timestamp", "@timestamp", "time", "ts")
MESSAGE_KEYS = ("message", "msg")

# Objects looked at to find a batch's usual key: enough to see past a first
# line that is a banner without the key.
_USUAL_KEY_SAMPLE = 8

T = TypeVar("T")
D = TypeVar("D")
_line_of = attrgetter("line")


class _Missing:
    """Stands for a key a line does not have (None is a value JSON can hold)."""


_MISSING = _Missing()


class LineParser(Protocol):
    """Turns a batch of lines into records; skips blank lines (their numbers stay used)."""

    def parse(self, batch: LineBatch) -> list[Record]: ...


def unparsed_record(number: int, line: str) -> Record:
    """A line the file's format does not recognise: kept whole as the message."""
    return Record(number, None, UNKNOWN, line, {}, False)


def records_from_fields(numbers: Sequence[int], objects: list[dict[str, Any]]) -> list[Record]:
    """Records from decoded key-value lines; the well-known keys leave the objects,
    which become the records' `fields`."""
    levels = _take(objects, LEVEL_KEYS, levels_from_values, UNKNOWN)
    timestamps = _take(objects, TIME_KEYS, timestamps_to_utc, None)
    messages = _take(objects, MESSAGE_KEYS, _strings, "")
    return list(map(Record, numbers, timestamps, levels, messages, objects))


def merge_by_line(first: list[Record], second: list[Record]) -> list[Record]:
    """Two lists of records, each in line order, as one in line order."""
    if not second:
        return first
    return list(heapq.merge(first, second, key=_line_of))


def _take(
    objects: list[dict[str, Any]],
    keys: tuple[str, ...],
    convert: Callable[[list[object]], list[T | None]],
    default: D,
) -> list[T | D]:
    """Pop the first of `keys` each object has and convert the values; a value
    that does not convert goes back where it came from, and `default` stands
    in for it.

    The batch's usual key (the first one its first few objects use) is popped
    from all objects at once; only the objects that lack it, or also hold a
    preferred key, are visited one by one.
    """
    sample = objects[:_USUAL_KEY_SAMPLE]
    usual = next((key for key in keys if any(key in item for item in sample)), keys[0])
    values: list[object] = list(map(dict.pop, objects, repeat(usual), repeat(_MISSING)))
    taken_from: dict[int, str] = {}  # the objects whose value came from another key
    for preferred in keys[: keys.index(usual)]:
        holders = list(map(dict.__contains__, objects, repeat(preferred)))
        for index in _indexes_of(holders, True):
            if index in taken_from:  # an even more preferred key was there
                continue
            if values[index] is not _MISSING:
                objects[index][usual] = values[index]
            values[index] = objects[index].pop(preferred)
            taken_from[index] = preferred
    for index in _indexes_of(values, _MISSING):
        for key in keys:
            if key in objects[index]:
                values[index] = objects[index].pop(key)
                taken_from[index] = key
                break
    converted: list[T | D] = cast("list[T | D]", convert(values))
    for index in _indexes_of(converted, None):
        if values[index] is not _MISSING:
            objects[index][taken_from.get(index, usual)] = values[index]
        converted[index] = default
    return converted


def _strings(values: list[object]) -> list[str | None]:
    """Messages are strings; anything else stays among the fields."""
    if set(map(type, values)) == {str}:
        return cast("list[str | None]", values)
    return [value if type(value) is str else None for value in values]


def _indexes_of(items: list[Any], wanted: object) -> list[int]:
    """Where `wanted` is in `items`; the scanning is C-level, whatever the length."""
    indexes: list[int] = []
    index = -1
    try:
        while True:
            index = items.index(wanted, index + 1)
            indexes.append(index)
    except ValueError:
        return indexes

"""The summary stored on a job: what the file was, how much of it parsed, and
what it says (levels, time span, a few lines of its worst severity).

The builder takes whole batches and leans on C-level helpers (Counter,
`map` with attrgetter, `min`/`max`), so summarising adds little to the
per-line cost.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from ingest_api.core.storable import storable_text
from ingest_api.processing.formats.timestamps import format_timestamp
from ingest_api.processing.models import (
    SEVERITY_RANK,
    Compression,
    Level,
    LevelName,
    LogFormat,
    Record,
)
from ingest_api.processing.splitting import LineBatch

# Sample lines kept of the highest severity seen, and of the unparsed lines:
# enough for a person to see what the file says and why lines did not parse.
SAMPLES_KEPT = 5
# A sample is cut here: the summary lives in a database row and a JSON
# response, not in the output file.
SAMPLE_CHARS = 1000

_level_of = attrgetter("level")
_timestamp_of = attrgetter("timestamp")
_parsed_of = attrgetter("parsed")


@dataclass(frozen=True, slots=True)
class Sample:
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class Summary:
    """What processing one file found. Line counts: `lines` = parsed + unparsed +
    blank; a truncated line also counts as parsed or unparsed. The timestamps
    are the earliest and latest seen (logs are not always in order)."""

    format: LogFormat
    compression: Compression
    bytes_in: int
    bytes_decompressed: int
    bytes_out: int
    lines: int
    parsed_lines: int
    unparsed_lines: int
    blank_lines: int
    truncated_lines: int
    levels: Mapping[Level, int]
    first_timestamp: datetime | None
    last_timestamp: datetime | None
    highest_level: Level | None
    samples: tuple[Sample, ...]
    unparsed_samples: tuple[Sample, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types, levels from most to least severe, for storage and the
        API; sample texts are storable (no NUL, no lone surrogate)."""
        return {
            "format": self.format.value,
            "compression": self.compression.value,
            "bytes_in": self.bytes_in,
            "bytes_decompressed": self.bytes_decompressed,
            "bytes_out": self.bytes_out,
            "lines": self.lines,
            "parsed_lines": self.parsed_lines,
            "unparsed_lines": self.unparsed_lines,
            "blank_lines": self.blank_lines,
            "truncated_lines": self.truncated_lines,
            "levels": {
                level.value: self.levels[level] for level in Level if self.levels.get(level)
            },
            "first_timestamp": _timestamp_text(self.first_timestamp),
            "last_timestamp": _timestamp_text(self.last_timestamp),
            "highest_level": self.highest_level.value if self.highest_level else None,
            "samples": _samples(self.samples),
            "unparsed_samples": _samples(self.unparsed_samples),
        }


class SummaryBuilder:
    """Accumulates batches; `build` adds what only the caller knows (format, bytes)."""

    def __init__(self) -> None:
        self._lines = 0
        self._records = 0
        self._parsed = 0
        self._truncated = 0
        self._levels: Counter[LevelName] = Counter()
        self._first: datetime | None = None
        self._last: datetime | None = None
        self._highest: LevelName | None = None
        self._samples: list[Sample] = []
        self._unparsed_samples: list[Sample] = []

    def add(self, batch: LineBatch, records: list[Record]) -> None:
        self._lines += len(batch.lines)
        self._truncated += len(batch.truncated)
        if not records:
            return
        self._records += len(records)
        parsed = sum(map(_parsed_of, records))
        self._parsed += parsed
        if parsed < len(records) and len(self._unparsed_samples) < SAMPLES_KEPT:
            self._add_unparsed_samples(batch, records)
        levels = Counter(map(_level_of, records))
        self._levels.update(levels)
        self._add_timestamps([*filter(None, map(_timestamp_of, records))])
        self._add_samples(batch, records, min(levels, key=SEVERITY_RANK.__getitem__))

    def build(
        self,
        *,
        log_format: LogFormat,
        compression: Compression,
        bytes_in: int,
        bytes_decompressed: int,
        bytes_out: int,
    ) -> Summary:
        return Summary(
            format=log_format,
            compression=compression,
            bytes_in=bytes_in,
            bytes_decompressed=bytes_decompressed,
            bytes_out=bytes_out,
            lines=self._lines,
            parsed_lines=self._parsed,
            unparsed_lines=self._records - self._parsed,
            blank_lines=self._lines - self._records,
            truncated_lines=self._truncated,
            levels={Level(name): count for name, count in self._levels.items()},
            first_timestamp=self._first,
            last_timestamp=self._last,
            highest_level=None if self._highest is None else Level(self._highest),
            samples=tuple(self._samples),
            unparsed_samples=tuple(self._unparsed_samples),
        )

    def _add_timestamps(self, stamps: list[datetime]) -> None:
        if not stamps:
            return
        earliest, latest = min(stamps), max(stamps)
        if self._first is None or earliest < self._first:
            self._first = earliest
        if self._last is None or latest > self._last:
            self._last = latest

    def _add_samples(
        self, batch: LineBatch, records: list[Record], batch_highest: LevelName
    ) -> None:
        if self._highest is None or SEVERITY_RANK[batch_highest] < SEVERITY_RANK[self._highest]:
            self._highest = batch_highest
            self._samples.clear()
        elif batch_highest != self._highest:
            return
        for record in records:
            if len(self._samples) == SAMPLES_KEPT:
                break
            if record.level == batch_highest:
                text = batch.text(record.line)[:SAMPLE_CHARS]
                self._samples.append(Sample(record.line, text))

    def _add_unparsed_samples(self, batch: LineBatch, records: list[Record]) -> None:
        for record in records:
            if len(self._unparsed_samples) == SAMPLES_KEPT:
                break
            if not record.parsed:
                text = batch.text(record.line)[:SAMPLE_CHARS]
                self._unparsed_samples.append(Sample(record.line, text))


def _samples(samples: tuple[Sample, ...]) -> list[dict[str, Any]]:
    return [{"line": sample.line, "text": storable_text(sample.text)} for sample in samples]


def _timestamp_text(moment: datetime | None) -> str | None:
    return None if moment is None else format_timestamp(moment)

"""Cut decompressed blocks into numbered lines, in bulk.

A block is split with one C-level call, never scanned line by line in
Python: that is much of what keeps the hot loop fast. Lines stay bytes
(msgspec decodes JSON from bytes directly); text formats decode a batch at
once. A line that runs past the limit is cut there and the rest of it
skipped (only its kept start is held in memory, however long it runs), and
its number is reported so that its record can say so. `\\r\\n` line ends
count as `\\n`.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import methodcaller

NEWLINE = b"\n"
# Lines per batch at most: a batch's records are alive together, and a block
# of very short lines would otherwise make hundreds of thousands at once.
MAX_BATCH_LINES = 8192
_CRLF = b"\r\n"
# Undecodable bytes become U+FFFD: a stray byte must not fail its line.
_decode_text = methodcaller("decode", "utf-8", "replace")


@dataclass(frozen=True, slots=True)
class LineBatch:
    """Consecutive lines of the file; `lines[0]` is line number `first_number` (1-based)."""

    first_number: int
    lines: list[bytes]
    truncated: frozenset[int]

    def texts(self) -> list[str]:
        """All lines, decoded."""
        return list(map(_decode_text, self.lines))

    def text(self, number: int) -> str:
        """Line `number`, decoded."""
        return str(_decode_text(self.lines[number - self.first_number]))


class LineSplitter:
    """Feed it blocks in order, then `finish()`; each call returns the lines it
    completed, in batches of at most MAX_BATCH_LINES."""

    def __init__(self, *, max_line_bytes: int) -> None:
        self._max_line_bytes = max_line_bytes
        self._next_number = 1
        # The start of a line whose end has not arrived yet.
        self._tail = b""
        # The line in `_tail` was already cut: drop its bytes up to its end.
        self._tail_truncated = False

    def feed(self, block: bytes) -> list[LineBatch]:
        if b"\r" in block:
            block = block.replace(_CRLF, NEWLINE)
        # Split the block itself, not a copy joined to the tail: a block is a
        # megabyte, and copies of it add up.
        lines = block.split(NEWLINE)
        rest = lines.pop()  # after the last newline: a line still open
        if not lines:
            self._extend_tail(rest)
            return []
        if self._tail_truncated:
            lines[0] = self._tail  # the rest of the cut line is dropped
        elif self._tail:
            lines[0] = self._tail + lines[0]
        if lines[0].endswith(b"\r"):  # a "\r\n" split across two blocks
            lines[0] = lines[0][:-1]
        batches = self._batches(lines, tail_truncated=self._tail_truncated)
        self._tail = b""
        self._tail_truncated = False
        self._extend_tail(rest)
        return batches

    def finish(self) -> list[LineBatch]:
        """The last line, when the file does not end with a newline."""
        if not self._tail and not self._tail_truncated:
            return []
        last = self._tail.removesuffix(b"\r")
        batches = self._batches([last], tail_truncated=self._tail_truncated)
        self._tail = b""
        self._tail_truncated = False
        return batches

    def _extend_tail(self, data: bytes) -> None:
        if self._tail_truncated or not data:
            return
        self._tail += data
        if len(self._tail) > self._max_line_bytes:
            self._tail = self._tail[: self._max_line_bytes]
            self._tail_truncated = True

    def _batches(self, lines: list[bytes], *, tail_truncated: bool) -> list[LineBatch]:
        first_number = self._next_number
        self._next_number += len(lines)
        truncated = {first_number} if tail_truncated else set()
        if max(map(len, lines)) > self._max_line_bytes:
            truncated.update(self._cut_long_lines(lines, first_number))
        if len(lines) <= MAX_BATCH_LINES:
            return [LineBatch(first_number, lines, frozenset(truncated))]
        return [
            LineBatch(
                first_number + start,
                lines[start : start + MAX_BATCH_LINES],
                frozenset(
                    number
                    for number in truncated
                    if 0 <= number - first_number - start < MAX_BATCH_LINES
                ),
            )
            for start in range(0, len(lines), MAX_BATCH_LINES)
        ]

    def _cut_long_lines(self, lines: list[bytes], first_number: int) -> list[int]:
        """Cut, in place, the lines over the limit; return their numbers."""
        limit = self._max_line_bytes
        cut: list[int] = []
        for index, line in enumerate(lines):
            if len(line) > limit:
                lines[index] = line[:limit]
                cut.append(first_number + index)
        return cut

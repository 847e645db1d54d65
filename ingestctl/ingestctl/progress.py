"""A one-line progress bar on stderr, drawn only for a person (a TTY)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

BAR_WIDTH = 30


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024 or unit == "GiB":
            return f"{count:.1f} {unit}" if unit != "B" else f"{int(count)} B"
        count /= 1024
    return f"{count:.1f} GiB"  # pragma: no cover


def human_duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class ProgressBar:
    def __init__(self, total: int, label: str, stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.started = time.monotonic()
        self.last_draw = 0.0

    def update(self, done: int) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last_draw < 0.1 and done < self.total):
            return
        self.last_draw = now
        filled = int(BAR_WIDTH * min(done, self.total) / self.total)
        rate = done / max(now - self.started, 1e-6)
        left = (self.total - done) / rate if rate > 0 else 0.0
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] "
            f"{human_bytes(done)}/{human_bytes(self.total)} {human_bytes(rate)}/s "
            f"ETA {human_duration(left)}  "
        )
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

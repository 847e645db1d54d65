"""The garbage collector, set for a process that parses logs.

Processing allocates a dict and a record per line, nearly all of them freed
by reference counting within their batch. At CPython's default threshold (a
young collection every 700 allocations) the cyclic collector still runs
hundreds of times per 100 MB of log and costs about 4% of processing's time
(`bench/processing_throughput.py`, JSON lines: 0.48 of `gzip -dc | wc -l` at
700, 0.51 at 10,000). A higher threshold collects cycles all the same, less
often; peak memory does not move (the benchmark prints it).

`gc.freeze()` first moves what startup built (modules, settings, clients),
which lives as long as the process, out of every later collection's way.
"""

from __future__ import annotations

import gc

# Allocations between two collections of the youngest generation.
YOUNG_THRESHOLD = 10_000


def tune_for_processing() -> None:
    """Call once, when the process has started."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)

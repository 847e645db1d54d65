"""Benchmark of the worker's processing core: MB/s of `process_stream` against
`gzip -dc FILE | wc -l` on the same gzip file in the same run, against a real
peer (syslog-ng parsing the same input into JSON lines), and peak memory for
two file sizes (it must not grow with the file).

    uv run python bench/processing_throughput.py [--mb 200] [--format json] [--repeat 3]

The file (`generated_logs`) is generated once per (format, size) and kept
under --dir, so a second run measures without generating; --mb is its
decompressed size. MB are 10^6 bytes of decompressed log, for every side.
`process_stream` runs in a child process (so that its peak RSS is its own)
and writes to a sink that only counts, as an upload would receive it; one
thread reads and decompresses ahead, the other parses and compresses, and
the garbage collector is set as in the worker (`worker.collector`). Figures vary with the machine
and its load: every side runs --repeat times, alternating, and the fastest
run of each counts; compare the ratios, measured side by side, not the
absolute numbers. CPU seconds are printed beside wall seconds: the
pipelines spread over processes (and syslog-ng over threads), and
process_stream over its two threads.

syslog-ng (`syslog_ng_peer`) is compared for the formats it has a pipeline
for (json, syslog5424, syslog3164) and reported "not compared" for the
others; --no-syslog-ng skips it. `gzip -dc` decompresses for it, in a
process of its own, and its output is uncompressed JSON; see that module.

Peak RSS is shown twice: with glibc's defaults, whose adaptive mmap
threshold lets freed megabyte buffers stay in the heap, so RSS climbs to a
plateau over the first hundred MB or so; and with the threshold pinned
(MALLOC_MMAP_THRESHOLD_), which shows the working set itself.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "api"))

# This script's own folder is on sys.path when it runs, as it is for mypy.
from generated_logs import FORMATS, file_for  # noqa: E402
from syslog_ng_peer import (  # noqa: E402
    PIPELINES,
    NotCompared,
    Peer,
    PeerRun,
    find_syslog_ng,
    run_syslog_ng,
)

from ingest_api.processing import process_stream  # noqa: E402
from ingest_api.worker.collector import tune_for_processing  # noqa: E402

REFERENCE_TIME = datetime(2024, 12, 31, tzinfo=UTC)
# The second file, for the memory comparison, is this fraction of the first.
SMALL_FRACTION = 4
# glibc's default initial mmap threshold, pinned (see the module docstring).
PINNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "131072"}


@dataclass(frozen=True, slots=True)
class Sides:
    """The best run of each side on the large file: `gzip -dc | wc -l` (wall
    seconds, CPU seconds, lines), process_stream (as `child` prints it), syslog-ng."""

    baseline: tuple[float, float, int]
    ours: dict[str, float]
    peer: PeerRun | None


@dataclass(frozen=True, slots=True)
class Memory:
    """process_stream's other runs, for peak RSS: the small file, and both with
    glibc's mmap threshold pinned."""

    small: dict[str, float]
    pinned: dict[str, float]
    small_pinned: dict[str, float]


def baseline(path: Path) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and line count of `gzip -dc FILE | wc -l`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    gunzip = subprocess.Popen(["gzip", "-dc", str(path)], stdout=subprocess.PIPE)
    count = subprocess.run(["wc", "-l"], stdin=gunzip.stdout, check=True, capture_output=True)
    if gunzip.wait() != 0:
        raise SystemExit("gzip -dc failed")
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return seconds, cpu, int(count.stdout)


def measure_in_child(path: Path, environment: dict[str, str] | None = None) -> dict[str, float]:
    """Run `--child` in a fresh process, so that its peak RSS is this file's alone."""
    result = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **(environment or {})},
    )
    measured: dict[str, float] = json.loads(result.stdout)
    return measured


def child(path: Path) -> None:
    """Process the file once, print what it cost as JSON."""
    written = 0

    def count(part: bytes) -> None:
        nonlocal written
        written += len(part)

    tune_for_processing()  # as the worker does
    started_cpu = time.process_time()
    started = time.perf_counter()
    with path.open("rb") as source:
        summary = process_stream(source, count, reference_time=REFERENCE_TIME)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": time.process_time() - started_cpu,
                "bytes": summary.bytes_decompressed,
                "lines": summary.lines,
                "unparsed": summary.unparsed_lines,
                "output_bytes": written,
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def peer_for(log_format: str, *, enabled: bool) -> Peer | NotCompared:
    """syslog-ng and its pipeline for this format, or why it is not compared."""
    if not enabled:
        return NotCompared("--no-syslog-ng")
    pipeline = PIPELINES.get(log_format)
    if pipeline is None:
        return NotCompared(f"syslog-ng has a pipeline for {', '.join(sorted(PIPELINES))} only")
    syslog_ng = find_syslog_ng()
    if syslog_ng is None:
        return NotCompared("syslog-ng is not installed: apt-get install syslog-ng-core")
    return Peer(syslog_ng, pipeline)


def measure_sides(path: Path, repeat: int, peer: Peer | NotCompared) -> Sides:
    """Every side `repeat` times, alternating, so a burst of load hits them alike;
    the fastest run of each counts, and the highest peak RSS of ours."""
    base_runs: list[tuple[float, float, int]] = []
    runs: list[dict[str, float]] = []
    peer_runs: list[PeerRun] = []
    for _ in range(repeat):
        base_runs.append(baseline(path))
        runs.append(measure_in_child(path))
        if isinstance(peer, Peer):
            peer_runs.append(run_syslog_ng(peer, path))
    ours = min(runs, key=lambda run: run["seconds"])
    ours["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    best_peer = min(peer_runs, key=lambda run: run.seconds) if peer_runs else None
    return Sides(min(base_runs), ours, best_peer)


def check_line_counts(sides: Sides) -> None:
    """Each side must have seen every line, or its MB/s means nothing."""
    base_lines = sides.baseline[2]
    if sides.ours["lines"] != base_lines:
        raise SystemExit(f"line counts differ: wc -l {base_lines}, process_stream {sides.ours}")
    if sides.peer is not None and sides.peer.lines != base_lines:
        raise SystemExit(
            f"syslog-ng wrote {sides.peer.lines:,} lines for {base_lines:,}: "
            "it dropped some, or could not parse them"
        )


def print_peer(peer: Peer | NotCompared, run: PeerRun | None, ours: dict[str, float]) -> None:
    """syslog-ng's line and the ratio against it, or why it was not compared."""
    if isinstance(peer, NotCompared):
        print(f"syslog-ng         : not compared ({peer.reason})")
        return
    assert run is not None  # a Peer runs with the other sides
    megabytes = ours["bytes"] / 1e6
    rate = megabytes / run.seconds
    print(
        f"syslog-ng {peer.syslog_ng.release:<8}: {run.seconds:6.2f} s  {rate:7.1f} MB/s  "
        f"(CPU {run.cpu_seconds:.2f} s with gzip -dc and wc, "
        f"{run.lines / run.seconds:,.0f} lines/s, output {run.output_bytes / 1e6:,.1f} MB "
        "JSON, uncompressed; gzip -dc decompresses in its own process)"
    )
    print(
        f"ratio to syslog-ng: {megabytes / ours['seconds'] / rate:.2f} of syslog-ng's MB/s, "
        f"{run.cpu_seconds / ours['cpu_seconds']:.2f} by CPU time (above 1: we are faster)"
    )


def print_report(
    log_format: str,
    repeat: int,
    large: Path,
    sides: Sides,
    peer: Peer | NotCompared,
    memory: Memory,
) -> None:
    base_seconds, base_cpu, base_lines = sides.baseline
    measured = sides.ours
    megabytes = measured["bytes"] / 1e6
    base_rate = megabytes / base_seconds
    rate = megabytes / measured["seconds"]
    per_line_us = measured["seconds"] / measured["lines"] * 1e6
    print(f"format            : {log_format} (best of {repeat} runs each)")
    print(
        f"file              : {large} ({megabytes:,.1f} MB decompressed, "
        f"{large.stat().st_size / 1e6:,.1f} MB gzip, {base_lines:,} lines, "
        f"{measured['bytes'] / base_lines:,.0f} B/line, {measured['unparsed']:,.0f} unparsed)"
    )
    print(
        f"gzip -dc | wc -l  : {base_seconds:6.2f} s  {base_rate:7.1f} MB/s  (CPU {base_cpu:.2f} s)"
    )
    print(
        f"process_stream    : {measured['seconds']:6.2f} s  {rate:7.1f} MB/s  "
        f"(CPU {measured['cpu_seconds']:.2f} s, {measured['lines'] / measured['seconds']:,.0f} "
        f"lines/s, {per_line_us:.2f} us/line, output {measured['output_bytes'] / 1e6:,.1f} MB "
        "gzip NDJSON; one process, decompressing in a thread of its own)"
    )
    print(f"ratio             : {rate / base_rate:.2f} of the baseline's MB/s (aim: >= 0.50)")
    print(
        f"ratio by CPU time : {base_cpu / measured['cpu_seconds']:.2f} "
        "(steadier on a busy machine: waiting for a core does not count)"
    )
    print_peer(peer, sides.peer, measured)
    sizes = f"{memory.small['bytes'] / 1e6:,.0f} MB / {megabytes:,.0f} MB file"
    print(
        f"peak RSS          : {memory.small['peak_rss_mb']:.1f} / "
        f"{measured['peak_rss_mb']:.1f} MB for a {sizes} (glibc defaults)"
    )
    print(
        f"                    {memory.small_pinned['peak_rss_mb']:.1f} / "
        f"{memory.pinned['peak_rss_mb']:.1f} MB for a {sizes} (MALLOC_MMAP_THRESHOLD_=131072)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=200, help="decompressed size of the file")
    parser.add_argument("--format", choices=sorted(FORMATS), default="json")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; best counts")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument(
        "--no-syslog-ng", action="store_true", help="skip the comparison with syslog-ng"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return

    small = file_for(args.dir, args.format, args.mb / SMALL_FRACTION, args.regenerate)
    large = file_for(args.dir, args.format, args.mb, args.regenerate)
    peer = peer_for(args.format, enabled=not args.no_syslog_ng)
    sides = measure_sides(large, args.repeat, peer)
    check_line_counts(sides)
    memory = Memory(
        small=measure_in_child(small),
        pinned=measure_in_child(large, PINNED_MALLOC),
        small_pinned=measure_in_child(small, PINNED_MALLOC),
    )
    print_report(args.format, args.repeat, large, sides, peer, memory)


if __name__ == "__main__":
    main()

"""Benchmark of the worker's processing core: MB/s of `process_stream` against
`gzip -dc FILE | wc -l` on the same gzip file in the same run, and peak
memory for two file sizes (it must not grow with the file).

    uv run python bench/processing_throughput.py [--mb 200] [--format json] [--repeat 3]

The file is generated once per (format, size) and kept under --dir, so a
second run measures without generating. MB are 10^6 bytes of decompressed
log, for both sides. `process_stream` runs in a child process (so that its
peak RSS is its own) and writes to a sink that only counts, as an upload
would receive it; it uses helper threads, so its CPU seconds are printed
beside its wall seconds. Figures vary with the machine and its load: both
sides run --repeat times, alternating, and the fastest run of each counts;
compare the ratio, measured side by side, not the absolute numbers.

Peak RSS is shown twice: with glibc's defaults, whose adaptive mmap
threshold lets freed megabyte buffers stay in the heap, so RSS climbs to a
plateau over the first hundred MB or so; and with the threshold pinned
(MALLOC_MMAP_THRESHOLD_), which shows the working set itself.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "api"))

from ingest_api.processing import process_stream  # noqa: E402

START = datetime(2024, 3, 1, tzinfo=UTC)
REFERENCE_TIME = datetime(2024, 12, 31, tzinfo=UTC)
# The second file, for the memory comparison, is this fraction of the first.
SMALL_FRACTION = 4
# glibc's default initial mmap threshold, pinned (see the module docstring).
PINNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "131072"}
# Lines are generated in batches of this many and written as one string.
GENERATE_BATCH = 10_000

PATHS = ("/v1/jobs", "/v1/jobs/{id}", "/v1/jobs/{id}/result", "/v1/auth/token", "/healthz")
AGENTS = ("ingestctl/0.1.0 python-httpx/0.28.1", "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0")
STATUSES = (200, 201, 204, 304, 400, 404, 429, 500)
STATUS_WEIGHTS = (60, 10, 5, 5, 5, 8, 4, 3)
SLOW_QUERY = "SELECT id, state FROM jobs WHERE owner_id = $1 ORDER BY created_at DESC LIMIT 50"
TRACEBACK = (
    "Traceback (most recent call last):\\n"
    '  File \\"/app/ingest_api/worker.py\\", line 214, in run_job\\n'
    "    summary = process_object(store, job_id=job.id, object_key=job.object_key)\\n"
    '  File \\"/app/ingest_api/processing/service.py\\", line 71, in process_object\\n'
    "    body = store.open_object(key=object_key)\\n"
    '  File \\"/usr/lib/python3/site-packages/botocore/client.py\\", line 1021, '
    "in _make_api_call\\n"
    "    raise error_class(parsed_response, operation_name)\\n"
    "botocore.exceptions.ClientError: An error occurred (SlowDown) when calling the "
    "GetObject operation: Please reduce your request rate."
)


def mixed_json(rng: random.Random, moment: datetime) -> str:
    """JSON lines as a web service and its workers write them: mostly request logs,
    some debug chatter, warnings, errors with tracebacks, and a component that
    names its keys differently."""
    stamp = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    kind = rng.random()
    if kind < 0.55:
        status = rng.choices(STATUSES, STATUS_WEIGHTS)[0]
        path = rng.choice(PATHS).format(id=uuid.UUID(int=rng.getrandbits(128)))
        level = "error" if status >= 500 else "warning" if status >= 400 else "info"
        return (
            f'{{"timestamp":"{stamp}","level":"{level}","logger":"ingest.api",'
            f'"msg":"request finished","method":"{rng.choice(("GET", "POST"))}","path":"{path}",'
            f'"status":{status},"duration_ms":{rng.uniform(0.5, 900):.2f},'
            f'"request_id":"{uuid.UUID(int=rng.getrandbits(128))}",'
            f'"remote_addr":"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",'
            f'"user_agent":"{rng.choice(AGENTS)}"}}'
        )
    if kind < 0.80:
        return (
            f'{{"timestamp":"{stamp}","level":"debug","logger":"ingest.worker",'
            f'"msg":"batch parsed","job":{{"id":"{uuid.UUID(int=rng.getrandbits(128))}",'
            f'"attempt":{rng.randint(1, 3)}}},"lines":{rng.randrange(10_000)},'
            f'"bytes":{rng.randrange(10_000_000)}}}'
        )
    if kind < 0.92:
        return (
            f'{{"timestamp":"{stamp}","level":"warning","logger":"ingest.db","msg":"slow query",'
            f'"query":"{SLOW_QUERY}","duration_ms":{rng.uniform(500, 5000):.1f},'
            f'"rows":{rng.randrange(50)}}}'
        )
    if kind < 0.98:
        return (
            f'{{"timestamp":"{stamp}","level":"error","logger":"ingest.worker",'
            f'"msg":"processing failed, will retry",'
            f'"job_id":"{uuid.UUID(int=rng.getrandbits(128))}",'
            f'"attempt":{rng.randint(1, 5)},"exc_info":"{TRACEBACK}"}}'
        )
    return (
        f'{{"time":"{moment.isoformat()}","severity":"NOTICE","message":"lease renewed",'
        f'"component":"relay","lease_seconds":30}}'
    )


def logfmt(rng: random.Random, moment: datetime) -> str:
    level = rng.choices(("info", "debug", "warn", "error"), (70, 15, 10, 5))[0]
    return (
        f"time={moment.isoformat(timespec='milliseconds')} level={level} "
        f'msg="request finished" method=GET path=/v1/jobs/{rng.randrange(10**6)} '
        f"status={rng.choice((200, 200, 404, 500))} duration={rng.uniform(0.5, 900):.2f}ms "
        f"request_id={uuid.UUID(int=rng.getrandbits(128))}"
    )


def syslog_rfc5424(rng: random.Random, moment: datetime) -> str:
    stamp = moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
    return (
        f"<{rng.choice((134, 131, 132, 135))}>1 {stamp} web-{rng.randrange(8)} nginx "
        f'{rng.randrange(1, 65536)} ACCESS [meta@32473 status="{rng.choice((200, 404))}" '
        f'bytes="{rng.randrange(100_000)}"] GET /v1/jobs/{rng.randrange(10**6)} served'
    )


def syslog_rfc3164(rng: random.Random, moment: datetime) -> str:
    return (
        f"<{rng.choice((38, 86, 30, 27))}>{moment:%b} {moment.day:2d} {moment:%H:%M:%S} "
        f"host-{rng.randrange(8)} sshd[{rng.randrange(1, 65536)}]: Accepted publickey for "
        f"deploy from 10.0.{rng.randrange(256)}.{rng.randrange(256)} port {rng.randrange(65536)}"
    )


def access_log(rng: random.Random, moment: datetime) -> str:
    return (
        f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)} - - "
        f"[{moment:%d/%b/%Y:%H:%M:%S} +0000] "
        f'"GET /v1/jobs/{rng.randrange(10**6)} HTTP/1.1" {rng.choice((200, 200, 304, 404, 502))} '
        f'{rng.randrange(100_000)} "https://app.example.com/" "{rng.choice(AGENTS)}"'
    )


def plain_text(rng: random.Random, moment: datetime) -> str:
    level = rng.choices(("INFO", "DEBUG", "WARNING", "ERROR"), (70, 15, 10, 5))[0]
    return (
        f"{moment:%Y-%m-%d %H:%M:%S},{moment.microsecond // 1000:03d} {level} "
        f"[worker-{rng.randrange(4)}] job {rng.randrange(10**6)} moved to the next stage"
    )


FORMATS: dict[str, Callable[[random.Random, datetime], str]] = {
    "json": mixed_json,
    "logfmt": logfmt,
    "syslog5424": syslog_rfc5424,
    "syslog3164": syslog_rfc3164,
    "access": access_log,
    "plain": plain_text,
}


def generated_lines(make_line: Callable[[random.Random, datetime], str]) -> Iterator[str]:
    rng = random.Random(20240301)
    moment = START
    while True:
        moment += timedelta(microseconds=rng.randrange(20_000))
        yield make_line(rng, moment)


def generate(path: Path, log_format: str, megabytes: float) -> None:
    """Write about `megabytes` of decompressed log to `path`, gzip -6 like most real files."""
    target = int(megabytes * 1_000_000)
    lines = generated_lines(FORMATS[log_format])
    partial = path.with_suffix(".partial")
    with partial.open("wb") as out:
        gzip = subprocess.Popen(["gzip", "-6", "-c"], stdin=subprocess.PIPE, stdout=out)
        assert gzip.stdin is not None
        written = 0
        while written < target:
            chunk = "".join(f"{next(lines)}\n" for _ in range(GENERATE_BATCH)).encode()
            gzip.stdin.write(chunk)
            written += len(chunk)
        gzip.stdin.close()
        if gzip.wait() != 0:
            raise SystemExit("gzip failed while generating the file")
    partial.rename(path)


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


def file_for(directory: Path, log_format: str, megabytes: float, regenerate: bool) -> Path:
    path = directory / f"processing-bench-{log_format}-{megabytes:g}MB.log.gz"
    if regenerate or not path.exists():
        print(f"generating {path} ...", flush=True)
        generate(path, log_format, megabytes)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=200, help="decompressed size of the file")
    parser.add_argument("--format", choices=sorted(FORMATS), default="json")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; best counts")
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return

    small = file_for(args.dir, args.format, args.mb / SMALL_FRACTION, args.regenerate)
    large = file_for(args.dir, args.format, args.mb, args.regenerate)

    base_runs, runs = [], []
    for _ in range(args.repeat):
        base_runs.append(baseline(large))
        runs.append(measure_in_child(large))
    base_seconds, base_cpu, base_lines = min(base_runs)
    measured = min(runs, key=lambda run: run["seconds"])
    measured["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    small_measured = measure_in_child(small)
    pinned = measure_in_child(large, PINNED_MALLOC)
    small_pinned = measure_in_child(small, PINNED_MALLOC)
    if measured["lines"] != base_lines:
        raise SystemExit(f"line counts differ: wc -l {base_lines}, process_stream {measured}")

    megabytes = measured["bytes"] / 1e6
    base_rate = megabytes / base_seconds
    rate = megabytes / measured["seconds"]
    per_line_us = measured["seconds"] / measured["lines"] * 1e6
    print(f"format            : {args.format} (best of {args.repeat} runs each)")
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
        f"lines/s, {per_line_us:.2f} us/line, output {measured['output_bytes'] / 1e6:,.1f} MB)"
    )
    print(f"ratio             : {rate / base_rate:.2f} of the baseline's MB/s (aim: >= 0.50)")
    print(
        f"ratio by CPU time : {base_cpu / measured['cpu_seconds']:.2f} "
        "(steadier on a busy machine: waiting for a core does not count)"
    )
    sizes = f"{small_measured['bytes'] / 1e6:,.0f} MB / {megabytes:,.0f} MB file"
    print(
        f"peak RSS          : {small_measured['peak_rss_mb']:.1f} / "
        f"{measured['peak_rss_mb']:.1f} MB for a {sizes} (glibc defaults)"
    )
    print(
        f"                    {small_pinned['peak_rss_mb']:.1f} / {pinned['peak_rss_mb']:.1f} MB "
        f"for a {sizes} (MALLOC_MMAP_THRESHOLD_=131072)"
    )


if __name__ == "__main__":
    main()

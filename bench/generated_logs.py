"""The logs the processing benchmark reads: generated, reproducible, gzip -6,
one per format, and cached under a folder so later runs skip generating.

Each format's lines look like what real services write (a mix of request
logs, chatter, warnings and errors with tracebacks for JSON lines), so the
parsers meet the shapes they meet in production; the same seed always
gives the same file.
"""

from __future__ import annotations

import random
import subprocess
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2024, 3, 1, tzinfo=UTC)
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


def file_for(directory: Path, log_format: str, megabytes: float, regenerate: bool) -> Path:
    """The cached file for (format, size), generated first when missing or asked to."""
    path = directory / f"processing-bench-{log_format}-{megabytes:g}MB.log.gz"
    if regenerate or not path.exists():
        print(f"generating {path} ...", flush=True)
        generate(path, log_format, megabytes)
    return path

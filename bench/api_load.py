"""Benchmark of the API: requests per second and p50/p99 latency for job
creation (presign included), job read, and /healthz as the baseline, each
measured with wrk (another process) against a real `ingest-api` process on
the local stack, in the same run. Prints the ratios to the baseline, and
the API process's CPU time per request (from /proc, user and system): on a
shared machine that figure is steadier than requests per second, since
time spent waiting for a core does not count.

    uv run python bench/api_load.py [--seconds 10] [--connections 16] [--logins-per-second 50]

Two more lines compare 50 clients following one unchanging job for 10 s:
polling it every 0.5 s, as ingestctl did, against a long poll
(If-None-Match and ?wait=10), by requests sent and the API's CPU seconds.

A last line measures the job read again while wrong logins arrive at
--logins-per-second (an open loop: they keep coming whether or not the API
keeps up), every one hashed (the login limits are lifted for the run): it
shows whether password hashing stalls other requests.

Needs the local stack (`hack/stack.sh up postgres redis minio`) and wrk
(`apt-get install wrk`). Figures vary with the machine and its load: compare
the ratios, which are measured side by side, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import psycopg
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.local_stack import ensure_up  # noqa: E402
from tests.support.processes import api_server  # noqa: E402

from ingest_api.migrations import upgrade  # noqa: E402

ADMIN = ("bench-admin", "bench-admin-password")
BODY = {"filename": "app.log", "content_type": "text/plain", "size_bytes": 1024}

CREATE_SCRIPT = """
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"
"""
READ_SCRIPT = """
wrk.headers["Authorization"] = "Bearer {token}"
"""


@dataclass(frozen=True)
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    requests: int
    # The API process's CPU microseconds per request during the run.
    cpu_us: float = 0.0


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _to_ms(value: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)$", value)
    if match is None:
        raise ValueError(f"wrk printed a latency this script does not read: {value!r}")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def measure(
    name: str, url: str, script: str, seconds: int, connections: int, api_pid: int
) -> Result:
    """One wrk run, with the API's CPU time over it."""
    before = cpu_seconds(api_pid)
    result = run_wrk(name, url, script, seconds, connections)
    spent = cpu_seconds(api_pid) - before
    return replace(result, cpu_us=spent / max(result.requests, 1) * 1e6)


def run_wrk(name: str, url: str, script: str, seconds: int, connections: int) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    # wrk wants at least one connection per thread.
    load = [f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s"]
    out = subprocess.run(
        ["wrk", *load, "--latency", "-s", lua.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _to_ms(re.search(r"^\s*50%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _to_ms(re.search(r"^\s*99%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    non_2xx_match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx = int(non_2xx_match.group(1)) if non_2xx_match else 0
    return Result(name, rps, p50, p99, non_2xx, requests)


def fresh_database(admin_url: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    return url


def api_env(**overrides: str) -> dict[str, str]:
    """The environment of an `ingest-api` process on the local stack, on a
    fresh database, with its limits lifted for a benchmark."""
    pg, rd, s3 = (ensure_up(name).settings for name in ("postgres", "redis", "minio"))
    return {
        "ENVIRONMENT": "staging",
        "LOG_LEVEL": "warning",
        "DATABASE_URL": fresh_database(pg["DATABASE_URL"]),
        "REDIS_URL": rd["REDIS_URL"].rsplit("/", 1)[0] + "/14",
        "S3_ENDPOINT": s3["S3_ENDPOINT"],
        "S3_ACCESS_KEY": s3["S3_ACCESS_KEY"],
        "S3_SECRET_KEY": s3["S3_SECRET_KEY"],
        "S3_BUCKET": s3["S3_BUCKET"],
        "JWT_SECRET_KEY": "benchmark-secret-key-of-more-than-32-bytes",
        "BOOTSTRAP_ADMIN_USERNAME": ADMIN[0],
        "BOOTSTRAP_ADMIN_PASSWORD": ADMIN[1],
        "RATE_LIMIT_PER_MINUTE": "100000000",
        "LOGIN_ATTEMPTS_PER_ACCOUNT": "100000000",
        "LOGIN_ATTEMPTS_PER_CLIENT": "100000000",
        "DB_POOL_SIZE": "20",
        **overrides,
    }


def admin_token_and_job(url: str) -> tuple[str, dict[str, Any]]:
    """The benchmark admin's token, and a job of theirs to read."""
    token = httpx.post(
        f"{url}/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}
    ).json()["access_token"]
    job = httpx.post(f"{url}/v1/jobs", json=BODY, headers={"Authorization": f"Bearer {token}"})
    return str(token), dict(job.json())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--logins-per-second", type=int, default=50)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")

    env = api_env()
    with tempfile.TemporaryDirectory() as tmp, api_server(env, Path(tmp) / "api.log") as server:
        token, job = admin_token_and_job(server.url)
        cases = [
            ("GET /healthz (baseline)", f"{server.url}/healthz", ""),
            (
                "POST /v1/jobs (create + presign)",
                f"{server.url}/v1/jobs",
                CREATE_SCRIPT.format(body=json.dumps(BODY), token=token),
            ),
            (
                "GET /v1/jobs/{id}",
                f"{server.url}/v1/jobs/{job['id']}",
                READ_SCRIPT.format(token=token),
            ),
        ]
        pid = server.process.pid
        results = [
            measure(name, url, script, args.seconds, args.connections, pid)
            for name, url, script in cases
        ]
        assert server.metrics_url is not None
        batches = job_batches(server.metrics_url)
        waiting = {
            how: following_clients(
                server.url, token, job["id"], long_poll=how == "long poll", pid=pid
            )
            for how in ("polling every 0.5 s", "long poll")
        }
        _, read_url, read_script = cases[2]
        with login_flood(server.url, args.logins_per_second) as flood:
            flooded = measure(
                f"  ... with {args.logins_per_second} wrong logins/s",
                read_url,
                read_script,
                args.seconds,
                args.connections,
                pid,
            )
        results.append(flooded)
    print_report(results)
    for how, (requests, cpu) in waiting.items():
        print(
            f"50 clients following a job for 10 s, {how:>20}: {requests:5d} requests,"
            f" API CPU {cpu:.2f} s"
        )
    print(
        f"wrong logins during that run: {flood.sent} sent, {flood.answered} answered"
        f" (401 {flood.refused}), answer p50 {flood.p50_ms:.0f} ms"
    )
    for operation, (statements, requests) in sorted(batches.items()):
        print(
            f"job {operation}s: {requests / max(statements, 1):.1f} a statement"
            f" on average ({requests:.0f} in {statements:.0f} statements)"
        )


def following_clients(
    url: str, token: str, job_id: str, *, long_poll: bool, pid: int, clients: int = 50
) -> tuple[int, float]:
    """(requests sent, API CPU seconds) for `clients` following a job for 10 s."""
    seconds = 10
    headers = {"Authorization": f"Bearer {token}"}
    sent = 0

    async def follow(client: httpx.AsyncClient) -> None:
        nonlocal sent
        deadline = time.monotonic() + seconds
        first = await client.get(f"{url}/v1/jobs/{job_id}", headers=headers)
        sent += 1
        tag = first.headers["etag"]
        while (left := deadline - time.monotonic()) > 0:
            if long_poll:
                await client.get(
                    f"{url}/v1/jobs/{job_id}",
                    params={"wait": max(1, int(left))},
                    headers={**headers, "If-None-Match": tag},
                )
            else:
                await asyncio.sleep(0.5)
                await client.get(f"{url}/v1/jobs/{job_id}", headers=headers)
            sent += 1

    async def run() -> None:
        limits = httpx.Limits(max_connections=None)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            await asyncio.gather(*(follow(client) for _ in range(clients)))

    before = cpu_seconds(pid)
    asyncio.run(run())
    return sent, cpu_seconds(pid) - before


@dataclass
class Flood:
    sent: int = 0
    answered: int = 0
    refused: int = 0
    p50_ms: float = 0.0


class login_flood:  # noqa: N801 - used as a context manager, like a function
    """Wrong logins at `rate` a second in a thread of their own, until the block ends."""

    def __init__(self, url: str, rate: int) -> None:
        self.url, self.rate = url, rate
        self.stats = Flood()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    def __enter__(self) -> Flood:
        self._thread.start()
        return self.stats

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    async def _run(self) -> None:
        durations: list[float] = []
        async with httpx.AsyncClient(
            timeout=60, limits=httpx.Limits(max_connections=None)
        ) as client:

            async def one(n: int) -> None:
                started = time.perf_counter()
                answer = await client.post(
                    f"{self.url}/v1/auth/token", data={"username": f"nobody-{n}", "password": "x"}
                )
                durations.append(time.perf_counter() - started)
                self.stats.answered += 1
                self.stats.refused += answer.status_code == 401

            tasks = []
            start = time.perf_counter()
            while not self._stop.is_set():
                tasks.append(asyncio.create_task(one(self.stats.sent)))
                self.stats.sent += 1
                await asyncio.sleep(
                    max(0.0, start + self.stats.sent / self.rate - time.perf_counter())
                )
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        durations.sort()
        self.stats.p50_ms = durations[len(durations) // 2] * 1000 if durations else 0.0


def job_batches(metrics_url: str) -> dict[str, tuple[float, float]]:
    """For each operation (create, read): the statements the API ran, and how
    many requests they served."""
    batches: dict[str, tuple[float, float]] = {}
    for family in text_string_to_metric_families(httpx.get(metrics_url).text):
        if family.name != "ingest_job_batch_size":
            continue
        for sample in family.samples:
            statements, requests = batches.get(sample.labels["operation"], (0.0, 0.0))
            if sample.name.endswith("_count"):
                statements = sample.value
            elif sample.name.endswith("_sum"):
                requests = sample.value
            batches[sample.labels["operation"]] = (statements, requests)
    return batches


def print_report(results: list[Result]) -> None:
    baseline = results[0]
    header = f"{'endpoint':34} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'vs baseline':>11}"
    print(f"{header} {'API CPU us/req':>15} {'vs baseline':>11} {'errors':>7}")
    for result in results:
        print(
            f"{result.name:34} {result.rps:8.1f} {result.p50_ms:7.2f} {result.p99_ms:7.2f}"
            f" {result.rps / baseline.rps:10.2f}x {result.cpu_us:15.0f}"
            f" {baseline.cpu_us / result.cpu_us:10.2f}x {result.non_2xx:7d}"
        )


if __name__ == "__main__":
    main()

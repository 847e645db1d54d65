"""Benchmark of the API: requests per second and p50/p99 latency for job
creation (presign included), job read, and /healthz as the baseline, each
measured with wrk (another process) against a real `ingest-api` process on
the local stack, in the same run. Prints the ratios to the baseline.

    uv run python bench/api_load.py [--seconds 10] [--connections 16]

Needs the local stack (`hack/stack.sh up postgres redis minio`) and wrk
(`apt-get install wrk`). Figures vary with the machine and its load: compare
the ratios, which are measured side by side, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

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


def _to_ms(value: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s|m)$", value)
    if match is None:
        raise ValueError(f"wrk printed a latency this script does not read: {value!r}")
    number, unit = match.groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def run_wrk(name: str, url: str, script: str, seconds: int, connections: int) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", lua.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _to_ms(re.search(r"^\s*50%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    p99 = _to_ms(re.search(r"^\s*99%\s+(\S+)", out, re.MULTILINE).group(1))  # type: ignore[union-attr]
    non_2xx_match = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return Result(name, rps, p50, p99, int(non_2xx_match.group(1)) if non_2xx_match else 0)


def fresh_database(admin_url: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")

    pg, rd, s3 = (ensure_up(name).settings for name in ("postgres", "redis", "minio"))
    env = {
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
        "DB_POOL_SIZE": "20",
    }
    with tempfile.TemporaryDirectory() as tmp, api_server(env, Path(tmp) / "api.log") as server:
        token = httpx.post(
            f"{server.url}/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]}
        ).json()["access_token"]
        job = httpx.post(
            f"{server.url}/v1/jobs", json=BODY, headers={"Authorization": f"Bearer {token}"}
        ).json()
        results = [
            run_wrk(
                "GET /healthz (baseline)",
                f"{server.url}/healthz",
                "",
                args.seconds,
                args.connections,
            ),
            run_wrk(
                "POST /v1/jobs (create + presign)",
                f"{server.url}/v1/jobs",
                CREATE_SCRIPT.format(body=json.dumps(BODY), token=token),
                args.seconds,
                args.connections,
            ),
            run_wrk(
                "GET /v1/jobs/{id}",
                f"{server.url}/v1/jobs/{job['id']}",
                READ_SCRIPT.format(token=token),
                args.seconds,
                args.connections,
            ),
        ]
    baseline = results[0].rps
    header = f"{'endpoint':36} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs baseline':>12}"
    print(f"{header} {'errors':>7}")
    for result in results:
        print(
            f"{result.name:36} {result.rps:9.1f} {result.p50_ms:8.2f} {result.p99_ms:8.2f}"
            f" {result.rps / baseline:11.2f}x {result.non_2xx:7d}"
        )


if __name__ == "__main__":
    main()

"""Benchmark: `ingestctl upload` of a large file against boto3's
`upload_file` (s3transfer) to the same MinIO, with the same part size and
concurrency, in the same run; then a resume after half the parts.

    uv run python bench/upload_throughput.py [--mb 1024] [--concurrency 4]

ingestctl's time is the whole command: creating the job, asking the API for
each part's URL, sending the parts with their SHA-256, completing the job
(the API joins the parts and checks the object). boto3's is the transfer
alone. Needs the local stack (`hack/stack.sh up postgres redis minio`).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
import httpx
from boto3.s3.transfer import TransferConfig

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api_load import ADMIN, api_env  # noqa: E402
from tests.support.local_stack import ensure_up  # noqa: E402
from tests.support.processes import BIN_DIR, api_server  # noqa: E402

MIB = 1024**2
PART = 16 * MIB


def boto3_seconds(path: Path, concurrency: int) -> float:
    s3 = ensure_up("minio").settings
    client = boto3.client(
        "s3",
        endpoint_url=s3["S3_ENDPOINT"],
        aws_access_key_id=s3["S3_ACCESS_KEY"],
        aws_secret_access_key=s3["S3_SECRET_KEY"],
        region_name=s3["S3_REGION"],
    )
    config = TransferConfig(
        multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=concurrency
    )
    started = time.perf_counter()
    client.upload_file(str(path), s3["S3_BUCKET"], "bench/boto3-upload", Config=config)
    return time.perf_counter() - started


def ingestctl(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN_DIR / "ingestctl"), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def ingestctl_seconds(env: dict[str, str], path: Path, concurrency: int) -> float:
    started = time.perf_counter()
    done = ingestctl(env, "upload", str(path), "--concurrency", str(concurrency))
    if done.returncode != 0:
        sys.exit(f"ingestctl failed: {done.stderr}")
    return time.perf_counter() - started


def resume_after_half(env: dict[str, str], path: Path, concurrency: int) -> tuple[int, int, int]:
    """(parts sent before the kill, parts held after it, parts sent by the resume)."""
    command = [str(BIN_DIR / "ingestctl"), "upload", str(path), "--json"]
    command += ["--concurrency", str(concurrency)]
    total = -(-path.stat().st_size // PART)
    sent = 0
    with subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    ) as first:
        assert first.stderr is not None
        for line in first.stderr:
            if b'"part_uploaded"' in line:
                sent += 1
                if sent >= total // 2:
                    first.send_signal(signal.SIGKILL)
                    break
        first.wait()
    second = ingestctl(env, *command[1:])
    steps = [json.loads(line) for line in second.stderr.splitlines() if line.startswith("{")]
    held = next((s["parts"] for s in steps if s["event"] == "parts_held"), 0)
    resent = sum(1 for s in steps if s["event"] == "part_uploaded")
    return sent, held, resent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=1024)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        path = directory / "archive.log"
        with path.open("wb") as out:
            for _ in range(args.mb):
                out.write(os.urandom(MIB))
        env = api_env(MULTIPART_PART_BYTES=str(PART))
        with api_server(env, directory / "api.log") as server:
            cli = {**os.environ, "INGESTCTL_CONFIG": str(directory / "cli.json")}
            login = ingestctl(
                cli, "login", "--url", server.url, "--username", ADMIN[0], stdin=ADMIN[1]
            )
            if login.returncode != 0:
                sys.exit(f"login failed: {login.stderr}")
            # Warm both paths (connections, page cache), then measure each twice.
            boto3_seconds(path, args.concurrency)
            # Each order once: a run slows the one right after it while the
            # storage writes its bytes out.
            runs = []
            for boto_first in (True, False, True, False):
                if boto_first:
                    boto = boto3_seconds(path, args.concurrency)
                    ours = ingestctl_seconds(cli, path, args.concurrency)
                else:
                    ours = ingestctl_seconds(cli, path, args.concurrency)
                    boto = boto3_seconds(path, args.concurrency)
                runs.append((boto, ours))
            sent, held, resent = resume_after_half(cli, path, args.concurrency)
            httpx.get(f"{server.url}/healthz")
    size_mb = args.mb
    print(f"{size_mb} MiB in parts of {PART // MIB} MiB, {args.concurrency} at once")
    header = f"{'run':>4} {'boto3 MiB/s':>12} {'ingestctl MiB/s':>16} {'ratio':>6}"
    print(f"{header}  (odd runs: boto3 first)")
    for number, (boto, ours) in enumerate(runs, start=1):
        print(f"{number:>4} {size_mb / boto:12.1f} {size_mb / ours:16.1f} {boto / ours:6.2f}")
    boto_total, ours_total = (sum(run[i] for run in runs) for i in (0, 1))
    print(f"over all runs: ingestctl at {boto_total / ours_total:.2f} of boto3's throughput")
    total = -(-size_mb * MIB // PART)
    print(
        f"resume: killed after {sent} of {total} parts; the next run found {held} held "
        f"and sent {resent} (held + sent = {held + resent})"
    )


if __name__ == "__main__":
    main()

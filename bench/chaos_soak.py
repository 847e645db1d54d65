"""The chaos soak: jobs of mixed formats and sizes (a tenth of them hostile
files) through two `ingest-api` and three `ingest-worker` processes on the
local stack, while a schedule injects worker SIGKILL and SIGTERM, a Redis
restart that loses its data, a PostgreSQL restart, a MinIO restart and an
API SIGKILL, round after round. It prints jobs lost, jobs completed more
than once and outcomes that differ from a fault-free run of the same files
(all must be 0), and for each fault: the time until every process answered
/readyz again, the time until a job completed after that (the recovery
time), and how many jobs the recovery took over because their message was
lost.

    uv run python bench/chaos_soak.py [--jobs 500] [--rounds 2] [--fault-every 10]

The stack's PostgreSQL, Redis and MinIO are restarted: run it alone. It
gets a database, Redis database 13 and a bucket of its own, and exits 1 if
anything was lost. How it works: tests/support/chaos.py.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "api"))

from tests.support.api import api_settings  # noqa: E402
from tests.support.chaos import FAULTS, run_soak, soak_files  # noqa: E402
from tests.support.local_stack import ensure_up  # noqa: E402
from tests.support.soak_checks import check_soak  # noqa: E402

from ingest_api.core.config import Settings  # noqa: E402
from ingest_api.migrations import upgrade  # noqa: E402
from ingest_api.storage.service import s3_client  # noqa: E402

REDIS_DATABASE = 13


def soak_settings() -> Settings:
    pg, rd, s3 = (ensure_up(name).settings for name in ("postgres", "redis", "minio"))
    name = f"soak_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = pg["DATABASE_URL"].rsplit("/", 1)[0] + f"/{name}"
    upgrade(database_url)
    redis_url = rd["REDIS_URL"].rsplit("/", 1)[0] + f"/{REDIS_DATABASE}"
    with redis.Redis.from_url(redis_url) as conn:
        conn.flushdb()
    settings = api_settings(
        database_url=database_url, redis_url=redis_url, s3=s3, bucket=name.replace("_", "-")
    )
    s3_client(settings).create_bucket(Bucket=settings.s3_bucket)
    return settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2, help="times each fault is injected")
    parser.add_argument("--fault-every", type=float, default=10.0, help="seconds between faults")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args()

    settings = soak_settings()
    with tempfile.TemporaryDirectory(prefix="chaos-soak-") as logs:
        run = run_soak(
            settings,
            Path(logs),
            soak_files(args.jobs),
            list(FAULTS) * args.rounds,
            fault_every=args.fault_every,
            drain_timeout=600,
        )
        report = check_soak(settings, run)
    if args.format == "json":
        print(json.dumps(dataclasses.asdict(report), indent=2))
    else:
        print("\n".join(report.lines()))
    sys.exit(0 if report.ok() and not run.unfinished else 1)


if __name__ == "__main__":
    main()

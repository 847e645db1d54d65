"""`ingest-admin purge` as the CronJob runs it: it deletes exactly what the
retention settings no longer keep (rows, objects, stream entries), sets the
bucket's lifecycle rules, reports what it deleted, and deletes nothing
more when run again."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import redis
from mypy_boto3_s3 import S3Client
from starlette.testclient import TestClient

from ingest_api.core.config import Settings
from ingest_api.core.errors import DependencyUnavailable
from ingest_api.retention.purge import PurgeReport
from ingest_api.retention.purge import purge as purge_once
from ingest_api.runtime import Runtime
from tests.support.api import ApiUser, job_request, make_user, settings_env, upload
from tests.support.processes import run_command
from tests.support.queue import stream_messages

BODY = b"kept or not\n"
GROUP = "ingest-workers"
LONG_AGO = "now() - interval '400 days'"


def purge(settings: Settings) -> dict[str, int]:
    result = run_command("ingest-admin", settings_env(settings), "purge")
    assert result.returncode == 0, result.stderr
    report: dict[str, int] = json.loads(result.stdout)["deleted"]
    return report


def sql(settings: Settings, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.database_url) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


def uploaded_job(client: TestClient, user: ApiUser, idempotency_key: str | None = None) -> str:
    headers = {**user.headers, **({"Idempotency-Key": idempotency_key} if idempotency_key else {})}
    answer = client.post("/v1/jobs", json=job_request(BODY), headers=headers)
    assert answer.status_code == 201, answer.text
    assert upload(answer.json(), BODY).status_code == 204
    return str(answer.json()["id"])


def objects(s3_client: S3Client, bucket: str) -> set[str]:
    listing = s3_client.list_objects_v2(Bucket=bucket)
    return {item["Key"] for item in listing.get("Contents", [])}


@pytest.fixture
def user(client: TestClient) -> ApiUser:
    return make_user(client)


def test_purge_deletes_what_retention_no_longer_keeps_and_only_that(
    settings: Settings, client: TestClient, user: ApiUser, s3_client: S3Client
) -> None:
    old_done, old_failed, old_queued, recent_done = (uploaded_job(client, user) for _ in range(4))
    old_abandoned = uploaded_job(client, user, idempotency_key="abandoned-1")
    for job_id in (old_done, old_queued, recent_done):
        assert client.post(f"/v1/jobs/{job_id}/complete", headers=user.headers).status_code == 200
    assert len(stream_messages(settings)) == 3
    # Pretend the workers' moves, and age what retention should drop.
    sql(
        settings, "UPDATE jobs SET status = 'completed' WHERE id IN (%s, %s)", old_done, recent_done
    )
    sql(settings, "UPDATE jobs SET status = 'failed' WHERE id = %s", old_failed)
    sql(
        settings,
        f"UPDATE jobs SET updated_at = {LONG_AGO} WHERE id IN (%s, %s, %s, %s)",  # noqa: S608
        old_done, old_failed, old_abandoned, old_queued,
    )  # fmt: skip
    aged_rows = [
        sql(settings, f"UPDATE {table} SET {column} = {LONG_AGO} {where} RETURNING 1", *params)  # noqa: S608
        for table, column, where, params in (
            ("outbox", "sent_at", "WHERE payload->>'job_id' = %s", (old_done,)),
            ("refresh_tokens", "expires_at", "WHERE user_id = %s", (user.id,)),
            ("idempotency_keys", "created_at", "", ()),
        )
    ]
    with redis.Redis.from_url(settings.redis_url, decode_responses=True) as conn:
        # Two messages delivered and acknowledged, one pending, none new.
        conn.xgroup_create(settings.queue_stream, GROUP, id="0")
        [(_, messages)] = conn.xreadgroup(GROUP, "w", {settings.queue_stream: ">"}, count=3)
        conn.xack(settings.queue_stream, GROUP, messages[0][0], messages[1][0])
        conn.xadd(f"{settings.queue_stream}:dead", {"job_id": "x"}, id="1000-0")
        conn.xadd(f"{settings.queue_stream}:dead", {"job_id": "y"})

    first = purge(settings)
    second = purge(settings)

    purged = {old_done, old_failed, old_abandoned}
    assert [len(rows) for rows in aged_rows] == [1, 1, 1]
    assert first == {
        "outbox_rows": 1,
        "refresh_tokens": 1,
        "idempotency_keys": 1,
        "jobs": 3,
        "objects": 6,
        "stream_entries": 2,
        "dead_letters": 1,
        "lifecycle_rules": 2,
    }
    assert second == {**dict.fromkeys(first, 0), "lifecycle_rules": 2}
    left = {str(row[0]) for row in sql(settings, "SELECT id FROM jobs")}
    assert left == {old_queued, recent_done}
    events = "SELECT count(*) FROM job_events WHERE job_id::text = ANY(%s)"
    assert sql(settings, events, list(purged)) == [(0,)]
    assert sql(settings, "SELECT count(*) FROM refresh_tokens") != [(0,)]  # the admin's
    kept = {f"uploads/{job_id}" for job_id in (old_queued, recent_done)}
    assert objects(s3_client, settings.s3_bucket) == kept
    rules = s3_client.get_bucket_lifecycle_configuration(Bucket=settings.s3_bucket)["Rules"]
    assert {(r["Filter"]["Prefix"], r["Expiration"]["Days"]) for r in rules} == {
        ("uploads/", settings.retain_uploads_days),
        ("results/", settings.retain_results_days),
    }
    with redis.Redis.from_url(settings.redis_url, decode_responses=True) as conn:
        assert [m[0] for m in conn.xrange(settings.queue_stream)] == [messages[2][0]]
        assert [f["job_id"] for _, f in conn.xrange(f"{settings.queue_stream}:dead")] == ["y"]


def test_a_purge_that_cannot_reach_a_dependency_says_which_and_fails(settings: Settings) -> None:
    unreachable = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})

    result = run_command("ingest-admin", settings_env(unreachable), "purge")

    assert result.returncode == 1
    assert "ingest-admin: purge stopped (redis)" in result.stderr
    assert "Traceback" not in result.stderr
    assert purge(settings)["jobs"] == 0  # the next run completes


def test_a_storage_that_refuses_lifecycle_rules_does_not_stop_the_purge(
    settings: Settings,
) -> None:
    """Some S3-compatible stores answer 501 to PutBucketLifecycleConfiguration.
    MinIO takes the rules, so here the refusal is a stand-in."""
    with redis.Redis.from_url(settings.redis_url, decode_responses=True) as conn:
        conn.xgroup_create(settings.queue_stream, GROUP, id="0", mkstream=True)
        for n in range(3):
            conn.xadd(settings.queue_stream, {"job_id": f"job-{n}"})
        [(_, messages)] = conn.xreadgroup(GROUP, "w", {settings.queue_stream: ">"})
        conn.xack(settings.queue_stream, GROUP, *(message_id for message_id, _ in messages))

    async def refuse(configuration: dict[str, Any]) -> None:
        raise DependencyUnavailable("storage answered 501 NotImplemented", dependency="s3")

    async def run() -> PurgeReport:
        runtime = Runtime.from_settings(settings)
        runtime.store.set_lifecycle = refuse  # type: ignore[method-assign]
        try:
            return await purge_once(runtime, group=GROUP, now=datetime.now(UTC))
        finally:
            await runtime.close()

    report = asyncio.run(run())
    assert report.lifecycle_rules == 0
    assert report.stream_entries == 3  # the steps after it ran

"""What retention keeps, and until when: the cutoffs, the bucket's rules,
and the stream id the trim keeps from."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ingest_api.core.config import Settings
from ingest_api.jobs.rules import IDEMPOTENCY_KEY_TTL
from ingest_api.queue.trimming import following_id
from ingest_api.retention.policy import cutoffs, lifecycle_rules

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_cutoffs_follow_the_settings() -> None:
    cut = cutoffs(settings(retain_finished_jobs_days=30), NOW)

    assert cut.finished_jobs == NOW - timedelta(days=30)
    assert cut.relayed_outbox == cut.expired_tokens == NOW - timedelta(days=1)
    # A replay within its key's lifetime still finds the key.
    assert cut.idempotency_keys == NOW - IDEMPOTENCY_KEY_TTL


def test_uploads_and_results_expire_on_their_own_days() -> None:
    rules = lifecycle_rules(settings(retain_uploads_days=3, retain_results_days=45))["Rules"]

    assert [(r["Filter"]["Prefix"], r["Expiration"]["Days"]) for r in rules] == [
        ("uploads/", 3),
        ("results/", 45),
    ]
    assert {r["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] for r in rules} == {1}


def test_the_trim_keeps_everything_after_the_last_delivered_entry() -> None:
    assert following_id("1700000000000-0") == "1700000000000-1"
    assert following_id("5-41") == "5-42"

"""What is kept, and until when (pure).

relayed outbox rows        a day after they were sent
refresh tokens             a day after they expired
idempotency keys           as long as a replay may use them (IDEMPOTENCY_KEY_TTL)
finished jobs, history     RETAIN_FINISHED_JOBS_DAYS after their last move;
                           jobs never completed (`created`) as well
dead letters               as long as finished jobs
uploads, results           RETAIN_UPLOADS_DAYS, RETAIN_RESULTS_DAYS after
                           they were written: the bucket's lifecycle rules;
                           a purged job's objects go with it at once
stream entries             once every consumer acknowledged them
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ingest_api.core.config import Settings
from ingest_api.jobs.rules import IDEMPOTENCY_KEY_TTL
from ingest_api.storage.keys import RESULTS_PREFIX, UPLOADS_PREFIX

RELAYED_OUTBOX_KEPT = timedelta(days=1)
EXPIRED_TOKENS_KEPT = timedelta(days=1)
# A multipart upload left incomplete (a worker killed while writing a
# result) is aborted by storage after this many days.
INCOMPLETE_UPLOADS_KEPT_DAYS = 1


@dataclass(frozen=True)
class Cutoffs:
    """Rows older than these are deleted."""

    relayed_outbox: datetime
    expired_tokens: datetime
    idempotency_keys: datetime
    finished_jobs: datetime


def cutoffs(settings: Settings, now: datetime) -> Cutoffs:
    return Cutoffs(
        relayed_outbox=now - RELAYED_OUTBOX_KEPT,
        expired_tokens=now - EXPIRED_TOKENS_KEPT,
        idempotency_keys=now - IDEMPOTENCY_KEY_TTL,
        finished_jobs=now - timedelta(days=settings.retain_finished_jobs_days),
    )


def lifecycle_rules(settings: Settings) -> dict[str, Any]:
    """The bucket's lifecycle configuration (S3 PutBucketLifecycleConfiguration)."""

    def expire(rule_id: str, prefix: str, days: int) -> dict[str, Any]:
        return {
            "ID": rule_id,
            "Status": "Enabled",
            "Filter": {"Prefix": prefix},
            "Expiration": {"Days": days},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": INCOMPLETE_UPLOADS_KEPT_DAYS},
        }

    return {
        "Rules": [
            expire("ingest-uploads", UPLOADS_PREFIX, settings.retain_uploads_days),
            expire("ingest-results", RESULTS_PREFIX, settings.retain_results_days),
        ]
    }

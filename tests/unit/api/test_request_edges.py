"""Small pure pieces of the request pipeline: the metrics' method label, the
path the rate limiter matches, and the login throttle's in-process counts."""

from __future__ import annotations

from ingest_api.auth.throttle import MAX_LOCAL_KEYS, LocalCounts
from ingest_api.http.middleware import app_path, metric_method


def test_an_unknown_method_is_labelled_other() -> None:
    """Review L7: a client chooses the method; the label set must stay bounded."""
    assert metric_method("GET") == "GET"
    assert metric_method("PURGE") == "other"
    assert metric_method("X" * 100) == "other"


def test_the_rate_limited_path_is_the_one_inside_the_root_path() -> None:
    """Review L12: served under a proxy's prefix, /v1 is still /v1."""
    assert app_path({"path": "/ingest/v1/jobs", "root_path": "/ingest"}) == "/v1/jobs"
    assert app_path({"path": "/v1/jobs", "root_path": ""}) == "/v1/jobs"
    assert app_path({"path": "/v1/jobs"}) == "/v1/jobs"


def test_local_counts_refuse_past_the_limit_until_the_next_minute() -> None:
    counts = LocalCounts(limit_per_minute=3)
    minute = 1_800_000_000.0 - 1_800_000_000.0 % 60
    allowed = [counts.hit("k", now=minute + n).allowed for n in range(4)]
    assert allowed == [True, True, True, False]
    assert counts.hit("other", now=minute + 5).allowed
    assert counts.hit("k", now=minute + 60).allowed


def test_local_counts_forget_the_oldest_keys_past_their_bound() -> None:
    counts = LocalCounts(limit_per_minute=1)
    counts.hit("first", now=0.0)
    for n in range(MAX_LOCAL_KEYS):
        counts.hit(f"k{n}", now=0.0)
    # Forgotten, so counted afresh: never more refusals than the limit allows.
    assert counts.hit("first", now=0.0).allowed

"""Rate limits keyed by the token's subject, else the client's IP; forwarded
addresses believed only from trusted proxies; counters shared through Redis."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from starlette.testclient import TestClient

from ingest_api.app import create_app
from ingest_api.core.config import Settings
from ingest_api.http.rate_limit import RateDecision, RateLimiter
from tests.support.api import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    bearer,
    login,
    wait_for_a_fresh_rate_window,
)

LIMIT = 5


@pytest.fixture(autouse=True)
def _within_one_rate_window() -> None:
    wait_for_a_fresh_rate_window()


@pytest.fixture
def limited(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"rate_limit_per_minute": LIMIT, "trusted_proxies": ["10.0.0.0/8"]}
    )


def app_client(settings: Settings, peer: str) -> TestClient:
    return TestClient(create_app(settings), client=(peer, 40000), raise_server_exceptions=False)


@pytest.fixture
def from_proxy(limited: Settings) -> Iterator[TestClient]:
    with app_client(limited, "10.1.2.3") as client:
        yield client


def test_the_request_past_the_limit_gets_429_with_retry_after(limited: Settings) -> None:
    with app_client(limited, "192.0.2.10") as client:
        answers = [client.get("/v1/jobs") for _ in range(LIMIT + 1)]

    assert [a.status_code for a in answers] == [401] * LIMIT + [429]
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["type"].endswith("/rate-limited")
    assert answers[0].headers["RateLimit-Limit"] == str(LIMIT)


def test_probes_are_not_counted_and_the_api_is_counted_before_routing(limited: Settings) -> None:
    with app_client(limited, "192.0.2.40") as client:
        probes = [client.get(path) for path in ("/healthz", "/readyz") * LIMIT]
        # An unknown /v1 path is counted too: scanners spend the budget.
        answers = [client.get("/v1/no-such-route") for _ in range(LIMIT)]
        refused = client.get("/v1/jobs")

    assert {probe.status_code for probe in probes} == {200}
    assert "RateLimit-Limit" not in probes[0].headers
    assert [a.status_code for a in answers] == [404] * LIMIT
    assert refused.status_code == 429


def test_each_subject_has_its_own_budget_across_replicas(limited: Settings) -> None:
    # Two app instances share nothing but Redis: the count still holds.
    with app_client(limited, "192.0.2.20") as first, app_client(limited, "192.0.2.20") as second:
        alice = login(first, ADMIN_USERNAME, ADMIN_PASSWORD)["access_token"]
        answers = [
            (first if i % 2 else second).get("/v1/users/me", headers=bearer(alice))
            for i in range(LIMIT + 1)
        ]
    assert [a.status_code for a in answers] == [200] * LIMIT + [429]


def test_ip_fallback_separates_clients(limited: Settings) -> None:
    with app_client(limited, "192.0.2.30") as one, app_client(limited, "192.0.2.31") as other:
        for _ in range(LIMIT):
            one.get("/v1/jobs")
        assert one.get("/v1/jobs").status_code == 429
        assert other.get("/v1/jobs").status_code == 401


def test_forwarded_for_is_believed_from_a_trusted_proxy(from_proxy: TestClient) -> None:
    for _ in range(LIMIT):
        from_proxy.get("/v1/jobs", headers={"X-Forwarded-For": "198.51.100.7"})
    assert (
        from_proxy.get("/v1/jobs", headers={"X-Forwarded-For": "198.51.100.7"}).status_code == 429
    )
    # Another client behind the same proxy has its own budget.
    assert (
        from_proxy.get("/v1/jobs", headers={"X-Forwarded-For": "198.51.100.8"}).status_code == 401
    )


def test_forwarded_for_is_ignored_from_an_untrusted_peer(limited: Settings) -> None:
    with app_client(limited, "192.0.2.40") as client:
        answers = [
            client.get("/v1/jobs", headers={"X-Forwarded-For": f"198.51.100.{i}"})
            for i in range(LIMIT + 1)
        ]
    assert answers[-1].status_code == 429


def test_replicas_leasing_budget_admit_exactly_the_limit_in_few_round_trips(
    redis_url: str,
) -> None:
    """Two limiters share only Redis; each takes budget in leases. Together
    they admit the limit exactly, with far fewer calls than requests."""
    limit, requests = 300, 400
    calls: list[int] = []

    async def run() -> list[bool]:
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        replicas = [RateLimiter(client, limit_per_minute=limit, trusted_proxies=[]) for _ in "ab"]
        for replica in replicas:
            take = replica.take_lease

            async def counted(*args: Any, take: Any = take, **kwargs: Any) -> Any:
                calls.append(1)
                return await take(*args, **kwargs)

            replica.take_lease = counted  # type: ignore[method-assign]
        try:
            # Within one window, whatever the clock says.
            moment = 60.0 * int(time.time() // 60) + 1
            decisions = [
                await replicas[i % 2].hit("sub:leasing", now=moment) for i in range(requests)
            ]
            return [decision.allowed for decision in decisions]
        finally:
            await client.aclose()

    allowed = asyncio.run(run())
    assert sum(allowed) == limit
    assert not any(allowed[limit + 30 :])  # the tail past the shared budget is refused
    # Leases while budget is left, then one call per replica to learn it is spent.
    assert len(calls) < limit / 4


def test_after_redis_fails_the_limiter_lets_requests_through_without_asking_again() -> None:
    """Review L6: a Redis that cannot be reached costs one request its
    timeout, not every request (here: nothing listens on port 1)."""
    calls: list[int] = []

    async def run() -> list[RateDecision]:
        client = aioredis.Redis.from_url("redis://127.0.0.1:1/0")
        limiter = RateLimiter(client, limit_per_minute=100, trusted_proxies=[])
        take = limiter.take_lease

        async def counted(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            return await take(*args, **kwargs)

        limiter.take_lease = counted  # type: ignore[method-assign]
        try:
            return [await limiter.hit(f"key-{n}") for n in range(20)]
        finally:
            await client.aclose()

    decisions = asyncio.run(run())
    assert all(decision.allowed and not decision.counted for decision in decisions)
    assert len(calls) == 1

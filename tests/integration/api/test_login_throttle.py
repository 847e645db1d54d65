"""Login attempts are limited per account and per client (an IPv6 /64), on
budgets of their own, before any password is checked; a token the client
holds does not move its attempts out of its address's budget."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from ingest_api.app import create_app
from ingest_api.core.config import Settings
from tests.support import local_stack
from tests.support.api import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    bearer,
    login,
    wait_for_a_fresh_rate_window,
)

PER_ACCOUNT = 3
PER_CLIENT = 5


@pytest.fixture(autouse=True)
def _within_one_rate_window() -> None:
    wait_for_a_fresh_rate_window()


@pytest.fixture
def throttled(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "login_attempts_per_account": PER_ACCOUNT,
            "login_attempts_per_client": PER_CLIENT,
            "trusted_proxies": ["10.0.0.0/8"],
        }
    )


def attempt(client: TestClient, username: str, **headers: str) -> int:
    answer = client.post(
        "/v1/auth/token", data={"username": username, "password": "guess"}, headers=headers
    )
    return answer.status_code


def test_an_account_is_limited_whatever_the_addresses(throttled: Settings) -> None:
    with TestClient(create_app(throttled), client=("10.1.2.3", 40000)) as proxy:
        codes = [
            attempt(proxy, ADMIN_USERNAME, **{"X-Forwarded-For": f"198.51.100.{n}"})
            for n in range(PER_ACCOUNT + 1)
        ]
        other_account = attempt(proxy, "someone-else", **{"X-Forwarded-For": "198.51.100.99"})

    assert codes == [401] * PER_ACCOUNT + [429]
    assert other_account == 401


def test_a_client_is_limited_whatever_the_accounts(throttled: Settings) -> None:
    with TestClient(create_app(throttled), client=("192.0.2.7", 40000)) as client:
        codes = [attempt(client, f"user-{n}") for n in range(PER_CLIENT + 1)]
        refused = client.post("/v1/auth/token", data={"username": "x", "password": "y"})

    assert codes == [401] * PER_CLIENT + [429]
    assert refused.json()["type"].endswith("/rate-limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_an_ipv6_client_is_limited_by_its_64(throttled: Settings) -> None:
    with TestClient(create_app(throttled), client=("10.1.2.3", 40000)) as proxy:
        codes = [
            attempt(proxy, f"user-{n}", **{"X-Forwarded-For": f"2001:db8:0:1::{n + 1:x}"})
            for n in range(PER_CLIENT + 1)
        ]
        other_64 = attempt(proxy, "user-x", **{"X-Forwarded-For": "2001:db8:0:2::1"})

    assert codes == [401] * PER_CLIENT + [429]
    assert other_64 == 401


def test_a_token_does_not_move_login_attempts_out_of_the_clients_budget(
    throttled: Settings,
) -> None:
    with TestClient(create_app(throttled), client=("192.0.2.8", 40000)) as client:
        token = login(client, ADMIN_USERNAME, ADMIN_PASSWORD)["access_token"]
        codes = [attempt(client, f"user-{n}", **bearer(token)) for n in range(PER_CLIENT)]

    assert codes == [401] * (PER_CLIENT - 1) + [429]


def test_while_redis_is_down_each_replica_counts_logins_itself(throttled: Settings) -> None:
    with TestClient(create_app(throttled), client=("192.0.2.9", 40000)) as client:
        local_stack.stop("redis")
        try:
            codes = [attempt(client, f"user-{n}") for n in range(PER_CLIENT + 1)]
        finally:
            local_stack.start("redis")

    assert codes == [401] * PER_CLIENT + [429]

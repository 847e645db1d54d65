"""Login attempts, limited per account and per client, on budgets of their own.

The general limit (RATE_LIMIT_PER_MINUTE, shared with every /v1 call) lets a
client guess a password a hundred times a minute, and a request carrying any
valid token is keyed on that token's subject, not its address. Logins get
two more counters, both checked before the password is: one per account
(whatever the address: many addresses guessing one password) and one per
client (an IPv4 address, an IPv6 /64: one address trying many accounts).
Every attempt counts, right or wrong: a person logs in a few times a minute.
Counters are the general limiter's (Redis, shared by every replica). While
Redis cannot count, each replica counts logins itself (`LocalCounts`): the
budget is then per replica, a guesser is still slowed, and people can
still log in.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict

import redis.asyncio as aioredis

from ingest_api.core.errors import RateLimited
from ingest_api.http.rate_limit import WINDOW_SECONDS, RateDecision, RateLimiter

# Keys counted in process at most; past it the oldest are forgotten.
MAX_LOCAL_KEYS = 10_000


class LocalCounts:
    """Fixed one-minute windows counted in this process: the fallback while
    Redis cannot count."""

    def __init__(self, limit_per_minute: int) -> None:
        self.limit = limit_per_minute
        self._counts: OrderedDict[str, tuple[int, int]] = OrderedDict()

    def hit(self, key: str, *, now: float | None = None) -> RateDecision:
        moment = time.time() if now is None else now
        window = int(moment // WINDOW_SECONDS)
        counted_window, count = self._counts.pop(key, (window, 0))
        count = count + 1 if counted_window == window else 1
        self._counts[key] = (window, count)
        if len(self._counts) > MAX_LOCAL_KEYS:
            self._counts.popitem(last=False)
        return RateDecision(
            allowed=count <= self.limit,
            limit=self.limit,
            remaining=max(0, self.limit - count),
            reset_seconds=WINDOW_SECONDS - int(moment % WINDOW_SECONDS),
        )


class LoginThrottle:
    def __init__(self, redis: aioredis.Redis, *, per_account: int, per_client: int) -> None:
        self.accounts = RateLimiter(redis, limit_per_minute=per_account, trusted_proxies=[])
        self.clients = RateLimiter(redis, limit_per_minute=per_client, trusted_proxies=[])
        self.local_accounts = LocalCounts(per_account)
        self.local_clients = LocalCounts(per_client)

    async def check(self, *, username: str, client: str) -> None:
        """Count one attempt; RateLimited when the account or the client is over its budget."""
        by_client = await _count(self.clients, self.local_clients, f"login-client:{client}")
        if not by_client.allowed:
            raise _refusal(by_client, "login attempts from your address", "login-client")
        account = f"login-account:{account_key(username)}"
        by_account = await _count(self.accounts, self.local_accounts, account)
        if not by_account.allowed:
            raise _refusal(by_account, "login attempts for this account", "login-account")


async def _count(shared: RateLimiter, local: LocalCounts, key: str) -> RateDecision:
    """One attempt, counted in Redis, or in this process while Redis cannot."""
    decision = await shared.hit(key)
    return decision if decision.counted else local.hit(key)


def account_key(username: str) -> str:
    """A bounded, printable key for any name a client sends (NUL, lone
    surrogates and megabytes included)."""
    return hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _refusal(decision: RateDecision, what: str, kind: str) -> RateLimited:
    return RateLimited(
        f"more than {decision.limit} {what} a minute; retry in {decision.reset_seconds} s",
        retry_after=decision.reset_seconds,
        key_kind=kind,
    )

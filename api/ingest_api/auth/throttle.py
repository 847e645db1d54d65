"""Login attempts, limited per account and per client, on budgets of their own.

The general limit (RATE_LIMIT_PER_MINUTE, shared with every /v1 call) lets a
client guess a password a hundred times a minute, and a request carrying any
valid token is keyed on that token's subject, not its address. Logins get
two more counters, both checked before the password is: one per account
(whatever the address: many addresses guessing one password) and one per
client (an IPv4 address, an IPv6 /64: one address trying many accounts).
Every attempt counts, right or wrong: a person logs in a few times a minute.
Counters are the general limiter's (Redis, shared by every replica).
"""

from __future__ import annotations

import hashlib

import redis.asyncio as aioredis

from ingest_api.core.errors import RateLimited
from ingest_api.http.rate_limit import RateDecision, RateLimiter


class LoginThrottle:
    def __init__(self, redis: aioredis.Redis, *, per_account: int, per_client: int) -> None:
        self.accounts = RateLimiter(redis, limit_per_minute=per_account, trusted_proxies=[])
        self.clients = RateLimiter(redis, limit_per_minute=per_client, trusted_proxies=[])

    async def check(self, *, username: str, client: str) -> None:
        """Count one attempt; RateLimited when the account or the client is over its budget."""
        by_client = await self.clients.hit(f"login-client:{client}")
        if not by_client.allowed:
            raise _refusal(by_client, "login attempts from your address", "login-client")
        by_account = await self.accounts.hit(f"login-account:{account_key(username)}")
        if not by_account.allowed:
            raise _refusal(by_account, "login attempts for this account", "login-account")


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

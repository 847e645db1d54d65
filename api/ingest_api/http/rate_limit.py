"""Rate limits keyed by the JWT subject, falling back to the client's IP.

Counters live in Redis (a fixed one-minute window per key), so the limit
holds across API replicas. Forwarding headers are believed only when the
peer is a configured trusted proxy. If Redis is unreachable the limiter lets
requests through: an outage of the limiter must not become an outage of the
API (the failure is logged and counted).
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ingest_api.core.logging import get_logger
from ingest_api.core.metrics import DEPENDENCY_ERRORS

WINDOW_SECONDS = 60
# Count and, for a new window, set its expiry: one command, one round trip
# (a MULTI pipeline of INCR and EXPIRE is four commands).
_COUNT_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""
# Where a request's RateLimit-* headers wait for the response (scope state).
RATE_LIMIT_HEADERS_STATE = "rate_limit_headers"

log = get_logger(__name__)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int


def parse_networks(entries: list[str]) -> list[IPNetwork]:
    return [ipaddress.ip_network(entry, strict=False) for entry in entries]


def _is_trusted(address: str, trusted: list[IPNetwork]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_ip(peer: str | None, forwarded_for: str | None, trusted: list[IPNetwork]) -> str:
    """The client's address: the peer's, unless the peer is a trusted proxy;
    then the right-most X-Forwarded-For entry that is not itself trusted."""
    if peer is None:
        return "unknown"
    if not forwarded_for or not _is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop
    return hops[0] if hops else peer


class RateLimiter:
    def __init__(
        self, redis: aioredis.Redis, *, limit_per_minute: int, trusted_proxies: list[str]
    ) -> None:
        self.count_hit = redis.register_script(_COUNT_HIT)
        self.limit = limit_per_minute
        self.trusted_proxies = parse_networks(trusted_proxies)

    async def hit(self, key: str, *, now: float | None = None) -> RateDecision:
        """Count one request for `key` in the current window."""
        moment = time.time() if now is None else now
        window = int(moment // WINDOW_SECONDS)
        reset = WINDOW_SECONDS - int(moment % WINDOW_SECONDS)
        counter = f"ratelimit:{key}:{window}"
        try:
            count = await self.count_hit(keys=[counter], args=[WINDOW_SECONDS + 1])
        except (RedisError, OSError) as error:
            DEPENDENCY_ERRORS.labels(dependency="redis").inc()
            log.warning("rate limiter unavailable; allowing the request", error=str(error))
            return RateDecision(
                allowed=True, limit=self.limit, remaining=self.limit, reset_seconds=reset
            )
        remaining = max(0, self.limit - int(count))
        return RateDecision(
            allowed=int(count) <= self.limit,
            limit=self.limit,
            remaining=remaining,
            reset_seconds=reset,
        )

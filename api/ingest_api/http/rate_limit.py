"""Rate limits keyed by the JWT subject, falling back to the client's IP.

Counters live in Redis (a fixed one-minute window per key), so the limit
holds across API replicas. A replica takes budget from a counter in leases
rather than a request at a time: up to MAX_LEASE requests' worth while the
window's budget is far from spent, one at a time near the limit. A lease is
counted in Redis when it is taken, so all replicas together never admit more
than the limit; budget a replica leased but did not use is lost to the
others until the window ends (at most a tenth of what was left when it was
leased). Once a window's count has reached the limit, a replica refuses
without asking again. On the benchmark this takes the Redis round trip,
about a sixth of a job read's CPU, off all but one request in 64.

Forwarding headers are believed only when the peer is a configured trusted
proxy. If Redis is unreachable the limiter lets requests through: an outage
of the limiter must not become an outage of the API (the failure is logged
and counted). After a failure it does not ask Redis again for
BREAKER_SECONDS, so that a Redis that does not answer at all (packets
dropped) costs one request a connect timeout, not every request. Such a
decision says it was not counted; the login throttle then counts in
process (`auth.throttle`).
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from dataclasses import dataclass

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from ingest_api.core.logging import get_logger
from ingest_api.core.metrics import DEPENDENCY_ERRORS

WINDOW_SECONDS = 60
MAX_LEASE = 64
# A lease takes at most this fraction of the budget left in the window.
LEASE_DIVISOR = 10
# After Redis failed, requests are let through without asking it for this long.
BREAKER_SECONDS = 5.0
# Keys whose leases are remembered; past it the oldest are forgotten (their
# unused budget is lost, never exceeded).
MAX_LEASED_KEYS = 10_000
# Take a lease and, for a new window, set its expiry: one command, one round
# trip (a MULTI pipeline of INCRBY and EXPIRE is four commands).
_TAKE_LEASE = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if count == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
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
    # False when Redis could not be asked: let through, not counted.
    counted: bool = True


@dataclass
class Lease:
    """One key's budget in one window, as this replica holds it."""

    window: int
    # The window's count in Redis as of this replica's last lease.
    counted: int = 0
    unused: int = 0


def lease_size(limit: int, counted: int) -> int:
    """How much budget to take at once when `counted` is already taken."""
    return max(1, min(MAX_LEASE, (limit - counted) // LEASE_DIVISOR))


def granted(limit: int, *, size: int, counted_after: int) -> int:
    """How much of a lease of `size`, which brought the window's count to
    `counted_after`, lies within the limit."""
    return max(0, min(size, limit - (counted_after - size)))


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


def ip_group(address: str) -> str:
    """The unit an address is limited as: an IPv4 address itself, an IPv6
    address's /64 (one subscriber holds a whole /64, so keying single IPv6
    addresses would give a client 2^64 budgets)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class RateLimiter:
    def __init__(
        self, redis: aioredis.Redis, *, limit_per_minute: int, trusted_proxies: list[str]
    ) -> None:
        self.take_lease = redis.register_script(_TAKE_LEASE)
        self.limit = limit_per_minute
        self.trusted_proxies = parse_networks(trusted_proxies)
        self._leases: OrderedDict[str, Lease] = OrderedDict()
        # time.monotonic() before which Redis is not asked (after a failure).
        self._redis_skipped_until = 0.0

    async def hit(self, key: str, *, now: float | None = None) -> RateDecision:
        """Count one request for `key` in the current window."""
        moment = time.time() if now is None else now
        window = int(moment // WINDOW_SECONDS)
        reset = WINDOW_SECONDS - int(moment % WINDOW_SECONDS)
        lease = self._lease(key, window)
        # A window's count only grows: once it reached the limit, refusing
        # needs no round trip.
        if lease.unused == 0 and lease.counted < self.limit:
            uncounted = RateDecision(
                allowed=True,
                limit=self.limit,
                remaining=self.limit,
                reset_seconds=reset,
                counted=False,
            )
            if time.monotonic() < self._redis_skipped_until:
                return uncounted
            size = lease_size(self.limit, lease.counted)
            counter = f"ratelimit:{key}:{window}"
            try:
                counted_after = int(
                    await self.take_lease(keys=[counter], args=[size, WINDOW_SECONDS + 1])
                )
            except (RedisError, OSError) as error:
                DEPENDENCY_ERRORS.labels(dependency="redis").inc()
                log.warning("rate limiter unavailable; allowing the request", error=str(error))
                self._redis_skipped_until = time.monotonic() + BREAKER_SECONDS
                return uncounted
            lease.counted = max(lease.counted, counted_after)
            lease.unused += granted(self.limit, size=size, counted_after=counted_after)
        allowed = lease.unused > 0
        if allowed:
            lease.unused -= 1
        return RateDecision(
            allowed=allowed,
            limit=self.limit,
            remaining=max(0, self.limit - lease.counted) + lease.unused,
            reset_seconds=reset,
        )

    def _lease(self, key: str, window: int) -> Lease:
        lease = self._leases.pop(key, None)
        if lease is None or lease.window != window:
            lease = Lease(window=window)
        self._leases[key] = lease  # last: the most recently used
        if len(self._leases) > MAX_LEASED_KEYS:
            self._leases.popitem(last=False)
        return lease

"""Tokens already verified, remembered until they expire (pure)."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from typing import Generic, TypeVar

T = TypeVar("T")


class TokenCache(Generic[T]):
    """The last `capacity` verified tokens and what each stands for.

    A signed token's claims never change, so its signature and claims are
    checked once (tens of microseconds of HMAC or RSA and JSON otherwise, on
    every request); an entry is dropped the second its token expires.
    Whether its user may still act is not a property of the token: that is
    looked up on every request regardless.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[str, tuple[T, datetime]] = OrderedDict()

    def get(self, token: str, *, now: datetime | None = None) -> T | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        value, expires_at = entry
        if expires_at <= (now or datetime.now(UTC)):
            del self._entries[token]
            return None
        self._entries.move_to_end(token)
        return value

    def put(self, token: str, value: T, *, expires_at: datetime) -> None:
        self._entries[token] = (value, expires_at)
        self._entries.move_to_end(token)
        if len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

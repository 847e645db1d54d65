"""Password hashing off the event loop, a few at a time.

Argon2 (pwdlib's defaults: 3 passes over 64 MiB, 4 lanes) costs tens of
milliseconds of CPU and 64 MiB per call. On the event loop it would stall
every other request for that long; in unbounded threads a flood of logins
would take all memory and every thread. So each call runs in a thread of its
own limiter (argon2 releases the GIL), at most PASSWORD_CHECKS_AT_ONCE per
process; the rest wait their turn without holding the loop, the database or
the threads the storage calls use. Call these outside any transaction: a
connection must not wait on a hash.
"""

from __future__ import annotations

from typing import Final

import anyio
import anyio.to_thread

from ingest_api.auth.security import hash_password, verify_password

PASSWORD_CHECKS_AT_ONCE: Final = 2
_LIMITER = anyio.CapacityLimiter(PASSWORD_CHECKS_AT_ONCE)


async def verify(password: str, password_hash: str | None) -> bool:
    """`security.verify_password` in a limited thread (a None hash costs the same, then fails)."""
    return await anyio.to_thread.run_sync(
        verify_password, password, password_hash, limiter=_LIMITER
    )


async def hash_new(password: str) -> str:
    """`security.hash_password` in a limited thread."""
    return await anyio.to_thread.run_sync(hash_password, password, limiter=_LIMITER)

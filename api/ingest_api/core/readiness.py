"""Readiness: do the dependencies answer? Shared by the API's and the
worker's /readyz.

Probes and anonymous callers learn only ready or not, and which dependency
is not: an error's text names hosts, ports and database users, so it goes to
the log (and `ingest_dependency_errors_total`), never into the answer. The
checks run at most once per TTL_SECONDS, however many callers ask at once,
so /readyz cannot be turned into load on the database, Redis or S3.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping

from ingest_api.core.logging import get_logger
from ingest_api.core.metrics import DEPENDENCY_ERRORS

Check = Callable[[], Awaitable[object]]

TTL_SECONDS = 1.0
TIMEOUT_SECONDS = 3.0

log = get_logger(__name__)


class Readiness:
    def __init__(
        self,
        checks: Mapping[str, Check],
        *,
        ttl_seconds: float = TTL_SECONDS,
        timeout_seconds: float = TIMEOUT_SECONDS,
    ) -> None:
        self._checks = dict(checks)
        self._ttl = ttl_seconds
        self._timeout = timeout_seconds
        self._lock = asyncio.Lock()
        self._checked_at = -float("inf")
        self._results: dict[str, bool] = {}

    async def results(self) -> dict[str, bool]:
        """Each dependency: True when it answered, as of at most TTL ago."""
        async with self._lock:  # callers arriving meanwhile share this run
            if time.monotonic() - self._checked_at >= self._ttl:
                answers = await asyncio.gather(*map(self._run, self._checks.items()))
                self._results = dict(zip(self._checks, answers, strict=True))
                self._checked_at = time.monotonic()
            return dict(self._results)

    async def _run(self, named: tuple[str, Check]) -> bool:
        name, check = named
        try:
            await asyncio.wait_for(check(), timeout=self._timeout)
        except Exception as error:  # every failure is a "not ready"; the log says why
            DEPENDENCY_ERRORS.labels(dependency=name).inc()
            log.warning(
                "readiness check failed",
                dependency=name,
                error=str(error) or type(error).__name__,
            )
            return False
        return True


def checks_text(results: Mapping[str, bool]) -> dict[str, str]:
    """{"postgres": "ok", "redis": "failed"}: what an answer may show."""
    return {name: "ok" if ok else "failed" for name, ok in results.items()}

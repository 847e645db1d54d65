"""Readiness checks run at most once per TTL, however many callers ask at
once; a failure shows as "failed" only, its reason goes to the log."""

from __future__ import annotations

import asyncio

from ingest_api.core.readiness import Readiness, checks_text


def test_concurrent_callers_share_one_run_and_a_fresh_run_follows_the_ttl() -> None:
    runs = {"postgres": 0, "redis": 0}

    def counting(name: str, *, fails: bool = False):  # type: ignore[no-untyped-def]
        async def check() -> None:
            runs[name] += 1
            await asyncio.sleep(0.01)
            if fails:
                raise ConnectionError('connection to "10.0.3.7", port 5432 failed')

        return check

    async def scenario() -> tuple[list[dict[str, bool]], dict[str, bool]]:
        readiness = Readiness(
            {"postgres": counting("postgres", fails=True), "redis": counting("redis")},
            ttl_seconds=0.05,
        )
        together = await asyncio.gather(*(readiness.results() for _ in range(10)))
        await asyncio.sleep(0.06)
        return together, await readiness.results()

    together, later = asyncio.run(scenario())

    assert together == [{"postgres": False, "redis": True}] * 10
    assert later == {"postgres": False, "redis": True}
    assert runs == {"postgres": 2, "redis": 2}
    assert checks_text(later) == {"postgres": "failed", "redis": "ok"}


def test_a_check_that_hangs_is_a_failure_after_the_timeout() -> None:
    async def hangs() -> None:
        await asyncio.sleep(10)

    readiness = Readiness({"s3": hangs}, timeout_seconds=0.05)

    assert asyncio.run(readiness.results()) == {"s3": False}

"""A long poll's time is the client's choice: it stays out of the latency
histogram (and so out of the p99 alert)."""

from __future__ import annotations

import pytest

from ingest_api.http.middleware import is_long_poll


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"", False),
        (b"wait=0", False),
        (b"wait=", False),
        (b"limit=5", False),
        (b"wait=20", True),
        (b"limit=5&wait=3", True),
        (b"wait=%32%30", True),  # percent-encoded 20
    ],
)
def test_only_a_request_that_asked_to_wait_is_a_long_poll(query: bytes, expected: bool) -> None:
    assert is_long_poll({"type": "http", "query_string": query}) is expected

"""How a replica sizes its leases of rate-limit budget, and what it may use."""

from __future__ import annotations

import pytest

from ingest_api.http.rate_limit import MAX_LEASE, granted, ip_group, lease_size


@pytest.mark.parametrize(
    ("limit", "counted", "expected"),
    [
        (100_000, 0, MAX_LEASE),  # far from the limit: the largest lease
        (600, 0, 60),  # a tenth of what is left
        (600, 590, 1),  # near the limit: one at a time
        (5, 0, 1),  # a small limit is counted exactly
        (5, 9, 1),  # past the limit: still one, to learn the window's count
    ],
)
def test_lease_size(limit: int, counted: int, expected: int) -> None:
    assert lease_size(limit, counted) == expected


@pytest.mark.parametrize(
    ("size", "counted_after", "expected"),
    [
        (10, 50, 10),  # all of it within the limit of 100
        (10, 105, 5),  # the lease straddles the limit: only its first half
        (10, 110, 0),  # others took the rest
        (1, 100, 1),  # the very last request of the window
        (1, 101, 0),
    ],
)
def test_granted_is_what_lies_within_the_limit(
    size: int, counted_after: int, expected: int
) -> None:
    assert granted(100, size=size, counted_after=counted_after) == expected


@pytest.mark.parametrize(
    ("address", "group"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:db8:0:1::1", "2001:db8:0:1::/64"),
        ("2001:db8:0:1:ffff:ffff:ffff:ffff", "2001:db8:0:1::/64"),
        ("unknown", "unknown"),
    ],
)
def test_ipv6_addresses_are_limited_by_their_64(address: str, group: str) -> None:
    assert ip_group(address) == group

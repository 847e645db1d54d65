"""Entity tags and If-None-Match (pure)."""

from __future__ import annotations

import pytest

from ingest_api.http.conditional import entity_tag, none_match

TAG = entity_tag(b'{"status":"queued"}')


def test_a_tag_is_strong_and_follows_the_bytes() -> None:
    assert TAG[0] == TAG[-1] == '"'
    assert entity_tag(b'{"status":"queued"}') == TAG
    assert entity_tag(b'{"status":"processing"}') != TAG


@pytest.mark.parametrize(
    ("header", "matches"),
    [
        (None, False),
        ("", False),
        (TAG, True),
        (f"W/{TAG}", True),
        (f'"other", {TAG}', True),
        ("*", True),
        ('"other"', False),
        (TAG.strip('"'), False),
    ],
)
def test_if_none_match_names_the_current_version(header: str | None, matches: bool) -> None:
    assert none_match(header, TAG) is matches

"""The API key's text: made, parsed, and refused when it is not ours."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from ingest_api.api_keys.format import PREFIX, base62, checksum, new_key, parse_key


def test_a_new_key_parses_back_to_its_id_and_hash() -> None:
    text, stored = new_key()
    parsed = parse_key(text)
    assert parsed == stored
    assert text.startswith(PREFIX)
    assert len(text) == len(PREFIX) + 32 + 43 + 6
    assert stored.secret_hash == hashlib.sha256(text[len(PREFIX) + 32 : -6].encode()).digest()


def test_keys_differ() -> None:
    assert len({new_key()[0] for _ in range(200)}) == 200


def test_any_single_changed_character_is_refused_by_the_check() -> None:
    text, _ = new_key()
    for position in range(len(PREFIX), len(text)):
        for replacement in "0aZ":
            if text[position] == replacement:
                continue
            mangled = text[:position] + replacement + text[position + 1 :]
            assert parse_key(mangled) is None or parse_key(mangled) != parse_key(text)


@given(st.text(max_size=120))
def test_no_text_but_a_well_formed_key_parses(text: str) -> None:
    parsed = parse_key(text)
    if parsed is not None:
        body = text[len(PREFIX) : -6]
        assert text == f"{PREFIX}{body}{checksum(body)}"


def test_base62_pads_and_orders_digits() -> None:
    assert base62(0, 3) == "000"
    assert base62(61, 2) == "0z"
    assert base62(62, 2) == "10"
    assert base62(2**256 - 1, 43).lstrip("0") != ""

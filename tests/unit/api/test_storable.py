"""Text on its way into PostgreSQL: NUL and lone surrogates replaced, the
rest untouched, at any depth."""

from __future__ import annotations

from ingest_api.core.storable import REPLACEMENT, is_storable, storable_json, storable_text


def test_nul_and_lone_surrogates_become_the_replacement_character() -> None:
    assert storable_text("a\x00b") == f"a{REPLACEMENT}b"
    assert storable_text("é\ud800\udfffz") == f"é{REPLACEMENT}{REPLACEMENT}z"
    assert storable_text("\U0001f600 ok") == "\U0001f600 ok"
    assert not is_storable("\x00")
    assert not is_storable("\udc80")
    assert is_storable("ok é")


def test_keys_and_values_are_cleaned_at_any_depth_without_recursion() -> None:
    deep: object = "\x00"
    for _ in range(50_000):  # far past the interpreter's recursion limit
        deep = [deep]
    value = {"k\x00": {"list": ["a\x00", 1, None, True]}, "deep": deep}

    cleaned = storable_json(value)

    assert cleaned["k\ufffd"] == {"list": [f"a{REPLACEMENT}", 1, None, True]}
    inner = cleaned["deep"]
    for _ in range(50_000):
        inner = inner[0]
    assert inner == REPLACEMENT
    assert value["k\x00"] == {"list": ["a\x00", 1, None, True]}  # the input is left as it was

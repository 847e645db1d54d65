"""Text that PostgreSQL can store: no NUL, no lone surrogate.

PostgreSQL refuses both, in `text` columns and in `jsonb` alike (a NUL is
`\\u0000` in JSON, which jsonb cannot hold; a lone surrogate is no UTF-8 at
all), and a refused write is a failed transaction. Log lines, file names
and messages from libraries can carry either, so every write of free text
passes through here once, at the database's edge (`core.db_types`), and
through the worker's output writer, whose records people load into
databases too. Pure: no I/O, no dependencies.

A NUL becomes U+FFFD (the replacement character, which stands for
undecodable bytes everywhere else in the service); a lone surrogate too.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"

# A NUL, or any code point of the surrogate range (in a Python str these can
# only be lone surrogates: a valid pair is one code point above U+FFFF).
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable_text(text: str) -> str:
    """`text` with every NUL and lone surrogate replaced by U+FFFD."""
    if text.isascii():
        return text if "\x00" not in text else text.replace("\x00", REPLACEMENT)
    return _UNSTORABLE.sub(REPLACEMENT, text)


def storable_json(value: Any) -> Any:
    """A JSON-like value (dicts, lists, scalars) whose strings, keys included,
    are all storable; other values pass unchanged. Iterative, not recursive:
    a log line may nest as deep as its parser allowed."""
    root, pending = _cleaned(value)
    while pending:
        container, key, child = pending.pop()
        container[key], more = _cleaned(child)
        pending.extend(more)
    return root


def _cleaned(value: Any) -> tuple[Any, list[tuple[Any, Any, Any]]]:
    """`value` cleaned one level deep, and the (container, key, child) slots
    whose children are still to clean."""
    if isinstance(value, str):
        return storable_text(value), []
    if isinstance(value, dict):
        cleaned: dict[Any, Any] = {}
        slots = []
        for key, item in value.items():
            clean_key = storable_text(key) if isinstance(key, str) else key
            cleaned[clean_key] = None
            slots.append((cleaned, clean_key, item))
        return cleaned, slots
    if isinstance(value, list | tuple):
        items: list[Any] = [None] * len(value)
        return items, [(items, index, item) for index, item in enumerate(value)]
    return value, []


def is_storable(text: str) -> bool:
    """True when `text` holds neither a NUL nor a lone surrogate."""
    return _UNSTORABLE.search(text) is None

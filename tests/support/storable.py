"""Checks that a value could be written to PostgreSQL (`text` or `jsonb`)."""

from __future__ import annotations

import json
from typing import Any


def assert_storable(value: Any) -> None:
    """No NUL and no lone surrogate anywhere in `value`'s strings (keys too),
    and its JSON is strict UTF-8: what jsonb accepts."""
    text = json.dumps(value, ensure_ascii=False)
    text.encode("utf-8")  # raises on a lone surrogate
    assert "\x00" not in text, text[:200]

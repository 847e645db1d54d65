"""The metric and label names a PromQL expression uses, read from its text.

Enough of PromQL for the expressions we ship (monitoring/): vector selectors
with matchers, aggregations with `by`/`without`, vector matching with
`on`/`ignoring`/`group_left`/`group_right`, functions, ranges, offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"' + r"|'(?:[^'\\]|\\.)*'")
_RANGE = re.compile(r"\[[^\]]*\]")
_MATCHERS = re.compile(r"\{([^}]*)\}")
_MATCHER_LABEL = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
_LABEL_LIST = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", re.IGNORECASE
)
_IDENTIFIER = re.compile(r"(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring",
     "group_left", "group_right", "inf", "nan"}
)  # fmt: skip


@dataclass
class Names:
    metrics: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)


def names_in(expression: str) -> Names:
    """The metric names selected, and every label name matched or grouped by."""
    text = _RANGE.sub(" ", _STRING.sub('""', expression))
    names = Names()
    for matchers in _MATCHERS.findall(text):
        names.labels.update(_MATCHER_LABEL.findall(matchers))
    text = _MATCHERS.sub(" ", text)
    for labels in _LABEL_LIST.findall(text):
        names.labels.update(label.strip() for label in labels.split(",") if label.strip())
    text = _LABEL_LIST.sub(" ", text)
    for identifier, call in _IDENTIFIER.findall(text):
        if not call and identifier.lower() not in _KEYWORDS:
            names.metrics.add(identifier)
    return names

"""Tell a file's log format from its first lines.

Each structured format's own recogniser votes on a sample of the first
non-blank lines; the format that recognises the most wins, provided it
recognises most of them, and plain text takes the rest. One format per
file: the parser then applies it to every line, and the lines it does not
recognise count as unparsed rather than being guessed at one by one.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice

from ingest_api.processing.formats import RECOGNISERS
from ingest_api.processing.guarding import recognises_guarded
from ingest_api.processing.models import LogFormat

# Enough lines to outvote a stray header or banner, few enough to cost nothing.
SAMPLE_LINES = 50
# The share of sampled lines a format must recognise to be chosen.
MIN_SHARE = 0.6


def detect_format(lines: Iterable[str]) -> LogFormat:
    """The format of a file whose first lines are `lines`; plain text when none fits."""
    sample = list(islice((line for line in lines if line and not line.isspace()), SAMPLE_LINES))
    if not sample:
        return LogFormat.PLAIN_TEXT
    best_format, best_count = LogFormat.PLAIN_TEXT, 0
    for log_format, recognises in RECOGNISERS:
        count = sum(1 for line in sample if recognises_guarded(recognises, line))
        if count > best_count:  # strictly more: an earlier format wins a tie
            best_format, best_count = log_format, count
    return best_format if best_count >= MIN_SHARE * len(sample) else LogFormat.PLAIN_TEXT

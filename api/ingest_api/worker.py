"""Runs the queue consumer (the `ingest-worker` command).

The consumer itself arrives with the worker issue; until then the command
exists so that images and manifests can name it, and says so when run.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Refuse to run, clearly, until the consumer exists."""
    sys.exit("ingest-worker: the queue consumer is not built yet")

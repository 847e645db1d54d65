"""Entry point of the `ingest-operator` command.

The kopf handlers arrive with the operator issue; until then the command
exists so that images and charts can name it, and says so when run.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Refuse to run, clearly, until the handlers exist."""
    sys.exit("ingest-operator: the reconciler is not built yet")

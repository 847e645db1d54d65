"""`ingestctl`: the command-line client for application developers. A
distribution of its own (`ingestctl/pyproject.toml`), needing httpx alone."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ingestctl")
except PackageNotFoundError:  # pragma: no cover - run from a source tree
    __version__ = "0.0.0"

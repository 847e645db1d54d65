"""Entry point of `ingestctl`; commands are added as the API grows."""

from __future__ import annotations

import argparse

from ingest_api import __version__


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every ingestctl command."""
    parser = argparse.ArgumentParser(
        prog="ingestctl", description="Upload log files and follow their jobs."
    )
    parser.add_argument("--version", action="version", version=f"ingestctl {__version__}")
    return parser


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the chosen command."""
    build_parser().parse_args(argv)

"""Bring up (or reuse) components of the local stack through hack/stack.sh.

The tests never start a service themselves: hack/stack.sh is the one place
that knows how, so what the tests exercise is what developers and CI run.
A component that was already running is reused and left running; one the
tests started is stopped again at the end of the session.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
STACK_SCRIPT = REPO_ROOT / "hack" / "stack.sh"


@dataclass
class Component:
    """One component of the local stack and the settings clients need."""

    name: str
    settings: dict[str, str] = field(default_factory=dict)
    started_here: bool = False


def parse_env(text: str) -> dict[str, str]:
    """KEY=value lines (as `hack/stack.sh env` prints them) into a dict."""
    settings: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ValueError(f"not a KEY=value line: {line!r}")
        settings[key] = value
    return settings


def _stack(*args: str, capture: bool = False) -> subprocess.CompletedProcess[str]:
    # Progress goes straight to the terminal: a cold build takes minutes and
    # silence would look like a hang.
    return subprocess.run(
        [str(STACK_SCRIPT), *args],
        check=False,
        text=True,
        stdout=subprocess.PIPE if capture else sys.stderr,
        stderr=subprocess.PIPE if capture else sys.stderr,
        env=os.environ.copy(),
    )


def ensure_up(name: str) -> Component:
    """Start the component unless it already answers; return its settings."""
    running = _stack("status", name, capture=True).returncode == 0
    if not running:
        result = _stack("up", name)
        if result.returncode != 0:
            raise RuntimeError(
                f"hack/stack.sh up {name} failed (exit {result.returncode}); see above"
            )
    env = _stack("env", name, capture=True)
    if env.returncode != 0:
        raise RuntimeError(f"hack/stack.sh env {name} failed: {env.stderr}")
    return Component(name=name, settings=parse_env(env.stdout), started_here=not running)


def tear_down(component: Component) -> None:
    """Stop the component if the tests started it."""
    if component.started_here:
        _stack("down", component.name)


def stop(name: str) -> None:
    """Stop a component mid-test (an outage); `start` brings it back."""
    if _stack("down", name).returncode != 0:
        raise RuntimeError(f"hack/stack.sh down {name} failed")


def start(name: str) -> None:
    if _stack("up", name).returncode != 0:
        raise RuntimeError(f"hack/stack.sh up {name} failed")


def wipe(name: str) -> None:
    """Restart the component without its data (Redis only: a lost volume)."""
    if _stack("wipe", name).returncode != 0:
        raise RuntimeError(f"hack/stack.sh wipe {name} failed")

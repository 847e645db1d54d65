"""Where ingestctl keeps the API address and tokens: one JSON file in the
user's config folder, readable by the user alone (0600), never by others."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


def config_path() -> Path:
    override = os.environ.get("INGESTCTL_CONFIG")
    if override:
        return Path(override)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "ingestctl" / "config.json"


@dataclass
class Credentials:
    url: str
    username: str
    access_token: str
    refresh_token: str


def load(path: Path | None = None) -> Credentials | None:
    file = path or config_path()
    if not file.exists():
        return None
    data = json.loads(file.read_text())
    return Credentials(**data)


def save(credentials: Credentials, path: Path | None = None) -> Path:
    """Write atomically, with private permissions from the first byte on."""
    file = path or config_path()
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = file.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        json.dump(asdict(credentials), handle)
    temporary.replace(file)
    return file

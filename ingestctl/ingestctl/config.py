"""Where ingestctl finds the API address and its credential: the
environment first (a machine's: INGEST_URL with INGEST_API_KEY, INGEST_TOKEN
or INGEST_TOKEN_FILE, e.g. a projected ServiceAccount token), else one JSON
file in the user's config folder (a login's), readable by the user alone
(0600), never by others."""

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


# The environment variables that hold a credential, in the order they win.
CREDENTIAL_VARIABLES = ("INGEST_API_KEY", "INGEST_TOKEN", "INGEST_TOKEN_FILE")


@dataclass
class Credentials:
    url: str
    username: str
    access_token: str
    # Empty for a credential from the environment: nothing to refresh.
    refresh_token: str


class MissingUrl(Exception):
    """A credential in the environment, but no INGEST_URL to send it to."""


def from_environment(environ: dict[str, str] | None = None) -> Credentials | None:
    """The credential the environment holds (an API key, an identity token,
    or the file a token is mounted at, read now), or None."""
    env = os.environ if environ is None else environ
    name = next((variable for variable in CREDENTIAL_VARIABLES if env.get(variable)), None)
    if name is None:
        return None
    url = env.get("INGEST_URL")
    if not url:
        raise MissingUrl(f"{name} is set: set INGEST_URL to the API's address too")
    value = env[name]
    token = Path(value).read_text().strip() if name == "INGEST_TOKEN_FILE" else value.strip()
    return Credentials(url=url.rstrip("/"), username=name, access_token=token, refresh_token="")


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

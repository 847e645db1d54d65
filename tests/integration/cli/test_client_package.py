"""The client as application developers install it: `ingestctl` alone, from
its own folder of a clone, with its own small set of dependencies, and
working against a real API."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support.api import admin, make_api_key
from tests.support.local_stack import REPO_ROOT
from tests.support.processes import ServerProcess

# Today's client: httpx and what httpx needs. The whole service (FastAPI,
# SQLAlchemy, boto3, kopf, kubernetes...) came with it before.
MAX_CLIENT_MIB = 10


def run(*command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return done


def test_the_client_installs_alone_and_works(api: ServerProcess, tmp_path: Path) -> None:
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed (hack/install-deps.sh installs it)"
    venv = tmp_path / "client"
    run(uv, "venv", "--quiet", "--python", sys.executable, str(venv))
    python = str(venv / "bin" / "python")
    run(uv, "pip", "install", "--quiet", "--python", python, str(REPO_ROOT / "ingestctl"))

    # -I: this environment's packages alone, whatever PYTHONPATH the tests run with.
    listing = "import importlib.metadata as m\nfor d in m.distributions(): print(d.name)"
    names = {name.lower() for name in run(python, "-I", "-c", listing).stdout.split()}
    assert "ingestctl" in names
    service = {"fastapi", "sqlalchemy", "boto3", "kopf", "kubernetes", "ingest-service"}
    assert not names & service, sorted(names)
    size = sum(f.stat().st_size for f in (venv / "lib").rglob("*") if f.is_file())
    assert size < MAX_CLIENT_MIB * 1024**2, size

    with httpx.Client(base_url=api.url) as http:
        key = make_api_key(http, admin(http), ("jobs:read",))["key"]
    env = {name: value for name, value in os.environ.items() if not name.startswith("PYTHON")}
    env |= {"INGEST_URL": api.url, "INGEST_API_KEY": key,
            "INGESTCTL_CONFIG": str(tmp_path / "none.json")}  # fmt: skip
    listed = run(str(venv / "bin" / "ingestctl"), "list", "--json", env=env)
    assert "data" in listed.stdout
    version = run(str(venv / "bin" / "ingestctl"), "--version", env=env)
    assert version.stdout.strip() == "ingestctl 0.1.0"

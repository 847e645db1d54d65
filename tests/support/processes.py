"""Run the service's own console scripts as real processes, the way a pod
would: the environment is the configuration, stdout/stderr go to a file."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

BIN_DIR = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_command(
    name: str, env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run a console script to completion (e.g. ingest-migrate)."""
    return subprocess.run(
        [str(BIN_DIR / name), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class ServerProcess:
    url: str
    log_path: Path
    process: subprocess.Popen[bytes]
    # The API's /metrics (on METRICS_PORT); a worker serves it at `url`.
    metrics_url: str | None = None

    def log_lines(self) -> list[str]:
        return self.log_path.read_text().splitlines()


@contextmanager
def api_server(
    env: dict[str, str], log_path: Path, *, timeout: float = 30
) -> Iterator[ServerProcess]:
    """`ingest-api` on a free loopback port (and its /metrics on another),
    until the block ends."""
    port, metrics_port = free_port(), free_port()
    env = {**env, "PORT": str(port), "METRICS_PORT": str(metrics_port)}
    with _serving("ingest-api", env, port, log_path, timeout) as server:
        server.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
        yield server


@contextmanager
def worker_process(
    env: dict[str, str], log_path: Path, *, timeout: float = 30
) -> Iterator[ServerProcess]:
    """`ingest-worker` until the block ends; `url` is its health server."""
    port = free_port()
    with _serving(
        "ingest-worker", {**env, "METRICS_PORT": str(port)}, port, log_path, timeout
    ) as server:
        yield server


@contextmanager
def _serving(
    command: str, env: dict[str, str], port: int, log_path: Path, timeout: float
) -> Iterator[ServerProcess]:
    """Run `command` until /healthz answers on `port`; at the end SIGTERM it
    (SIGKILL after 30 s), unless the test already stopped it."""
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(
            [str(BIN_DIR / command)],
            env={**os.environ, **env, "HOST": "127.0.0.1"},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = ServerProcess(url=f"http://127.0.0.1:{port}", log_path=log_path, process=process)
    try:
        _wait_healthy(server, timeout)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 30 s; returns once the process is gone."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(server: ServerProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"exited with {server.process.returncode}:\n{server.log_path.read_text()}"
            )
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"no answer in {timeout}s:\n{server.log_path.read_text()}")
        time.sleep(0.2)

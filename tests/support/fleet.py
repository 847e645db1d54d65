"""The service's processes kept running as Kubernetes keeps pods running: a
member that exits (a fault killed it) is started again, on the same port,
after a short delay. The chaos soak (`chaos`) runs its APIs and workers so."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.processes import BIN_DIR, free_port

# As a kubelet's first restart: soon, not at once.
RESTART_DELAY_SECONDS = 1.0


@dataclass
class Member:
    """One process of the fleet: `ingest-api` or `ingest-worker`."""

    name: str
    command: str
    env: dict[str, str]
    log_path: Path
    port: int = 0
    # An API's /metrics: a port of its own.
    metrics_port: int = 0
    process: subprocess.Popen[bytes] | None = None
    exited_at: float | None = None
    restarts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        return self._answers("/healthz")

    def ready(self) -> bool:
        return self._answers("/readyz")

    def _answers(self, path: str) -> bool:
        try:
            return httpx.get(f"{self.url}{path}", timeout=1).status_code == 200
        except httpx.TransportError:
            return False


class Fleet:
    def __init__(self, members: list[Member]) -> None:
        self.members = {member.name: member for member in members}
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="fleet", daemon=True)

    def start(self, timeout: float = 60) -> None:
        for member in self.members.values():
            member.port, member.metrics_port = free_port(), free_port()
            self._spawn(member)
        self.wait_healthy(timeout)
        self._watcher.start()

    def wait_healthy(self, timeout: float) -> None:
        self.wait_for(lambda: all(m.healthy() for m in self.members.values()), timeout)

    def ready(self) -> bool:
        """Every member answers /readyz: running, and its dependencies answer."""
        return all(member.ready() for member in self.members.values())

    def wait_for(self, condition: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise RuntimeError(f"the fleet did not get there in {timeout} s")
            time.sleep(0.1)

    def named(self, prefix: str) -> list[Member]:
        return [m for name, m in self.members.items() if name.startswith(prefix)]

    def signal(self, member: Member, signum: signal.Signals) -> None:
        if member.process is not None and member.process.poll() is None:
            member.process.send_signal(signum)

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher.is_alive():
            self._watcher.join()
        for member in self.members.values():
            self.signal(member, signal.SIGTERM)
        for member in self.members.values():
            if member.process is None:
                continue
            try:
                member.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                member.process.kill()
                member.process.wait()

    def _spawn(self, member: Member) -> None:
        if member.command == "ingest-api":
            ports = {"PORT": str(member.port), "METRICS_PORT": str(member.metrics_port)}
        else:
            ports = {"METRICS_PORT": str(member.port)}
        with member.log_path.open("ab") as log_file:
            member.process = subprocess.Popen(
                [str(BIN_DIR / member.command)],
                env={**os.environ, **member.env, "HOST": "127.0.0.1", **ports},
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        member.exited_at = None

    def _watch(self) -> None:
        while not self._stopping.wait(0.2):
            for member in self.members.values():
                if member.process is None or member.process.poll() is None:
                    continue
                now = time.monotonic()
                if member.exited_at is None:
                    member.exited_at = now
                elif now - member.exited_at >= RESTART_DELAY_SECONDS:
                    member.restarts += 1
                    self._spawn(member)

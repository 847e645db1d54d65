"""The operator's own settings, read from its environment (pure).

The Deployment that runs the operator sets these variables; a wrong value
stops the operator at start-up with the variable's name, instead of as odd
behaviour an hour later. Nothing here reads os.environ: main.py passes it in,
so unit tests pass a plain dict.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

WATCH_NAMESPACES: Final = "WATCH_NAMESPACES"
METRICS_PORT: Final = "METRICS_PORT"
LIVENESS_PORT: Final = "LIVENESS_PORT"
LOG_LEVEL: Final = "LOG_LEVEL"
RESYNC_SECONDS: Final = "RESYNC_SECONDS"
# Set from the downward API (metadata.name): names the operator in Events.
POD_NAME: Final = "POD_NAME"
# Set from the downward API (metadata.namespace): where the Lease lives.
POD_NAMESPACE: Final = "POD_NAMESPACE"
LEADER_ELECTION: Final = "LEADER_ELECTION"
LEADER_ELECTION_ID: Final = "LEADER_ELECTION_ID"
LEASE_DURATION_SECONDS: Final = "LEASE_DURATION_SECONDS"
RENEW_DEADLINE_SECONDS: Final = "RENEW_DEADLINE_SECONDS"
RETRY_PERIOD_SECONDS: Final = "RETRY_PERIOD_SECONDS"

# controller-runtime's conventional ports, so dashboards and probes find them.
DEFAULT_METRICS_PORT: Final = 8080
DEFAULT_LIVENESS_PORT: Final = 8081
LOG_LEVELS: Final = ("debug", "info", "warning", "error")
DEFAULT_LOG_LEVEL: Final = "info"
# Events drive reconciliation; the periodic resync only catches what they missed.
DEFAULT_RESYNC_SECONDS: Final = 300

# controller-runtime's timings: a new leader within about 15 s of a crash.
DEFAULT_LEASE_DURATION_SECONDS: Final = 15
DEFAULT_RENEW_DEADLINE_SECONDS: Final = 10
DEFAULT_RETRY_PERIOD_SECONDS: Final = 2
DEFAULT_LEADER_ELECTION_ID: Final = "ingest-operator"
# The elector's own rule: a renewal retried every period must fit, with
# jitter, into the deadline.
_RETRY_JITTER: Final = 1.2

_NAMESPACE: Final = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_MAX_NAMESPACE_LENGTH: Final = 63
_MAX_PORT: Final = 65535


class ConfigError(ValueError):
    """An environment variable holds a value the operator cannot run with."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclass(frozen=True)
class LeaderElection:
    """One Lease decides which replica reconciles (leadership.py)."""

    namespace: str
    lease_name: str
    lease_duration_seconds: int
    renew_deadline_seconds: int
    retry_period_seconds: int


@dataclass(frozen=True)
class OperatorConfig:
    # Empty: every namespace (cluster-wide, bound by a ClusterRoleBinding).
    watch_namespaces: tuple[str, ...]
    # 0 turns the endpoint off.
    metrics_port: int
    liveness_port: int
    log_level: str
    # 0 turns the periodic resync off.
    resync_seconds: int
    instance: str
    # None: this process reconciles alone, without a Lease.
    leader_election: LeaderElection | None = None

    @property
    def clusterwide(self) -> bool:
        return not self.watch_namespaces


def load_config(environ: Mapping[str, str]) -> OperatorConfig:
    """The settings in `environ`, or ConfigError naming the first bad variable."""
    return OperatorConfig(
        watch_namespaces=_namespaces(environ.get(WATCH_NAMESPACES, "")),
        metrics_port=_port(environ, METRICS_PORT, DEFAULT_METRICS_PORT),
        liveness_port=_port(environ, LIVENESS_PORT, DEFAULT_LIVENESS_PORT),
        log_level=_log_level(environ.get(LOG_LEVEL, DEFAULT_LOG_LEVEL)),
        resync_seconds=_seconds(environ, RESYNC_SECONDS, DEFAULT_RESYNC_SECONDS),
        instance=environ.get(POD_NAME) or socket.gethostname(),
        leader_election=_leader_election(environ),
    )


def _leader_election(environ: Mapping[str, str]) -> LeaderElection | None:
    enabled = environ.get(LEADER_ELECTION, "").strip().lower()
    if enabled not in ("", "true", "false"):
        raise ConfigError(LEADER_ELECTION, f"must be true or false, not {enabled!r}")
    if enabled != "true":
        return None
    namespace = environ.get(POD_NAMESPACE, "").strip()
    if not _NAMESPACE.match(namespace):
        raise ConfigError(POD_NAMESPACE, "must name the operator's namespace, where its Lease is")
    lease_name = environ.get(LEADER_ELECTION_ID, "").strip() or DEFAULT_LEADER_ELECTION_ID
    if len(lease_name) > _MAX_NAMESPACE_LENGTH or not _NAMESPACE.match(lease_name):
        raise ConfigError(LEADER_ELECTION_ID, f"{lease_name!r} is not a valid Lease name")
    election = LeaderElection(
        namespace=namespace,
        lease_name=lease_name,
        lease_duration_seconds=_positive_seconds(
            environ, LEASE_DURATION_SECONDS, DEFAULT_LEASE_DURATION_SECONDS
        ),
        renew_deadline_seconds=_positive_seconds(
            environ, RENEW_DEADLINE_SECONDS, DEFAULT_RENEW_DEADLINE_SECONDS
        ),
        retry_period_seconds=_positive_seconds(
            environ, RETRY_PERIOD_SECONDS, DEFAULT_RETRY_PERIOD_SECONDS
        ),
    )
    if election.renew_deadline_seconds >= election.lease_duration_seconds:
        raise ConfigError(RENEW_DEADLINE_SECONDS, f"must be less than {LEASE_DURATION_SECONDS}")
    if election.renew_deadline_seconds <= _RETRY_JITTER * election.retry_period_seconds:
        raise ConfigError(
            RETRY_PERIOD_SECONDS,
            f"times {_RETRY_JITTER} must be less than {RENEW_DEADLINE_SECONDS}",
        )
    return election


def _positive_seconds(environ: Mapping[str, str], variable: str, default: int) -> int:
    seconds = _seconds(environ, variable, default)
    if seconds < 1:
        raise ConfigError(variable, "must be at least 1 second")
    return seconds


def _namespaces(raw: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))
    for name in names:
        if len(name) > _MAX_NAMESPACE_LENGTH or not _NAMESPACE.match(name):
            raise ConfigError(WATCH_NAMESPACES, f"{name!r} is not a valid namespace name")
    return names


def _port(environ: Mapping[str, str], variable: str, default: int) -> int:
    raw = environ.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) > _MAX_PORT:
        raise ConfigError(variable, f"must be a port from 0 (off) to {_MAX_PORT}, not {raw!r}")
    return int(raw)


def _seconds(environ: Mapping[str, str], variable: str, default: int) -> int:
    raw = environ.get(variable, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise ConfigError(variable, f"must be a whole number of seconds (0: off), not {raw!r}")
    return int(raw)


def _log_level(raw: str) -> str:
    level = raw.strip().lower()
    if level not in LOG_LEVELS:
        raise ConfigError(LOG_LEVEL, f"must be one of {', '.join(LOG_LEVELS)}, not {raw!r}")
    return level

"""The specs of the autoscalers of an IngestService's Deployments (pure).

The API scales on CPU with a HorizontalPodAutoscaler. The workers scale on
the jobs waiting for them when KEDA is installed: a ScaledObject whose
redis-streams trigger reads the lag of the workers' consumer group on the
job stream (XINFO GROUPS), authenticated through a TriggerAuthentication
that points at a Secret the operator derives from the service's REDIS_URL;
without KEDA, a HorizontalPodAutoscaler on CPU. render.py wraps these specs
into objects with the children's metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import unquote, urlsplit

from ingest_operator.autoscaling_spec import Autoscaler, WorkerAutoscaler

HPA_API_VERSION: Final = "autoscaling/v2"
KEDA_API_VERSION: Final = "keda.sh/v1alpha1"
# What the service's worker reads (its QUEUE_STREAM default and its consumer
# group): the lag KEDA reads is this group's on this stream.
JOB_STREAM: Final = "ingest:jobs"
CONSUMER_GROUP: Final = "ingest-workers"
# The keys of the Secret a TriggerAuthentication reads, by KEDA parameter.
KEDA_ADDRESS_KEY: Final = "address"
KEDA_USERNAME_KEY: Final = "username"
KEDA_PASSWORD_KEY: Final = "password"  # noqa: S105 - a key's name
_REDIS_DEFAULT_PORT: Final = 6379


class InvalidRedisUrlError(ValueError):
    """REDIS_URL cannot be turned into KEDA's connection settings."""


@dataclass(frozen=True)
class RedisConnection:
    """What KEDA's redis-streams scaler needs of REDIS_URL."""

    address: str
    database: int
    tls: bool
    username: str | None = None
    password: str | None = None

    def secret_data(self) -> dict[str, str]:
        data = {KEDA_ADDRESS_KEY: self.address}
        if self.username:
            data[KEDA_USERNAME_KEY] = self.username
        if self.password:
            data[KEDA_PASSWORD_KEY] = self.password
        return data


def parse_redis_url(url: str) -> RedisConnection:
    """redis://[user[:password]@]host[:port][/db], or rediss:// for TLS."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise InvalidRedisUrlError("REDIS_URL must be redis://host[:port][/db] or rediss://")
    try:
        port = parts.port or _REDIS_DEFAULT_PORT
        database = int(parts.path.strip("/") or 0)
    except ValueError as error:
        raise InvalidRedisUrlError(f"REDIS_URL has a bad port or database: {error}") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return RedisConnection(
        address=f"{host}:{port}",
        database=database,
        tls=parts.scheme == "rediss",
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


def hpa_spec(deployment: str, autoscaler: Autoscaler) -> dict[str, Any]:
    """A HorizontalPodAutoscaler's spec: the Deployment's replicas follow its CPU use."""
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
        "minReplicas": autoscaler.min_replicas,
        "maxReplicas": autoscaler.max_replicas,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {
                        "type": "Utilization",
                        "averageUtilization": autoscaler.target_cpu_percent,
                    },
                },
            }
        ],
    }


def scaled_object_spec(
    deployment: str, autoscaler: WorkerAutoscaler, redis: RedisConnection, authentication: str
) -> dict[str, Any]:
    """A KEDA ScaledObject's spec: a worker replica per `jobs_per_replica` waiting jobs."""
    return {
        "scaleTargetRef": {"name": deployment},
        "minReplicaCount": autoscaler.min_replicas,
        "maxReplicaCount": autoscaler.max_replicas,
        "triggers": [
            {
                "type": "redis-streams",
                # KEDA's metadata is a map of strings.
                "metadata": {
                    "stream": JOB_STREAM,
                    "consumerGroup": CONSUMER_GROUP,
                    # Set, lagCount selects the lag of the group (jobs not yet
                    # delivered to any worker), not its pending entries (jobs
                    # being processed), which never exceed the workers there are.
                    "lagCount": str(autoscaler.jobs_per_replica),
                    "activationLagCount": "0",
                    "databaseIndex": str(redis.database),
                    "enableTLS": "true" if redis.tls else "false",
                },
                "authenticationRef": {"name": authentication},
            }
        ],
    }


def trigger_authentication_spec(secret: str, redis: RedisConnection) -> dict[str, Any]:
    """Where KEDA finds the Redis address and credentials: the derived Secret's keys."""
    return {
        "secretTargetRef": [
            {"parameter": key, "name": secret, "key": key} for key in redis.secret_data()
        ]
    }

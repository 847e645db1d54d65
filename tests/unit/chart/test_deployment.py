"""The chart runs the operator as operator/deploy/operator.yaml does, configured from values.

The environment it renders is read back with the operator's own
`load_config`, so a variable the chart spells or formats differently from
what the operator parses fails here, not at start-up in a cluster.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import yaml

from ingest_operator.config import (
    LIVENESS_PORT,
    LOG_LEVEL,
    METRICS_PORT,
    POD_NAME,
    POD_NAMESPACE,
    RESYNC_SECONDS,
    WATCH_NAMESPACES,
    load_config,
)
from tests.support.chart import CHART_DIR, Helm, Manifest, one
from tests.support.operator import deploy_manifests

# What the downward API gives the pod in the release's namespace.
DOWNWARD_API = {POD_NAME: "operator-0", POD_NAMESPACE: "ingest-system"}
REFERENCE = next(d for d in deploy_manifests("operator.yaml") if d["kind"] == "Deployment")
REFERENCE_POD = REFERENCE["spec"]["template"]["spec"]
APP_VERSION = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())["appVersion"]


def pod_spec(manifests: list[Manifest]) -> dict[str, Any]:
    spec: dict[str, Any] = one(manifests, "Deployment")["spec"]["template"]["spec"]
    return spec


def container(manifests: list[Manifest]) -> dict[str, Any]:
    (only,) = pod_spec(manifests)["containers"]
    found: dict[str, Any] = only
    return found


def plain_env(manifests: list[Manifest]) -> dict[str, str]:
    """The container's literal variables, as the operator's process would see them."""
    return {e["name"]: e["value"] for e in container(manifests)["env"] if "value" in e}


def port_number(manifests: list[Manifest], name: str) -> int:
    (port,) = [p for p in container(manifests)["ports"] if p["name"] == name]
    number: int = port["containerPort"]
    return number


def test_two_replicas_elect_a_leader_and_roll(default_manifests: list[Manifest]) -> None:
    spec = one(default_manifests, "Deployment")["spec"]
    assert spec["replicas"] == 2 == REFERENCE["spec"]["replicas"]
    assert spec["strategy"] == REFERENCE["spec"]["strategy"]
    assert spec["strategy"]["type"] == "RollingUpdate"
    election = load_config({**plain_env(default_manifests), **DOWNWARD_API}).leader_election
    assert election is not None
    # The Lease is named after the release, in the release's namespace.
    deployment_name = one(default_manifests, "Deployment")["metadata"]["name"]
    assert (election.namespace, election.lease_name) == ("ingest-system", deployment_name)
    # The standby prefers another node than the leader's.
    preferred = pod_spec(default_manifests)["affinity"]["podAntiAffinity"][
        "preferredDuringSchedulingIgnoredDuringExecution"
    ]
    assert preferred[0]["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"


def test_without_election_one_replica_is_replaced_not_rolled(helm: Helm) -> None:
    manifests = helm.template({"replicas": 1, "leaderElection": {"enabled": False}})
    spec = one(manifests, "Deployment")["spec"]
    assert spec["strategy"] == {"type": "Recreate"}
    assert load_config({**plain_env(manifests), **DOWNWARD_API}).leader_election is None
    assert "affinity" not in pod_spec(manifests)


def test_the_lease_settings_reach_the_operator(helm: Helm) -> None:
    timings = {"leaseDurationSeconds": 30, "renewDeadlineSeconds": 20, "retryPeriodSeconds": 4}
    manifests = helm.template({"leaderElection": {"enabled": True, **timings}})
    election = load_config({**plain_env(manifests), **DOWNWARD_API}).leader_election
    assert election is not None
    assert (
        election.lease_duration_seconds,
        election.renew_deadline_seconds,
        election.retry_period_seconds,
    ) == (30, 20, 4)


def test_zero_replicas_pause_the_operator(helm: Helm) -> None:
    assert one(helm.template({"replicas": 0}), "Deployment")["spec"]["replicas"] == 0


def test_the_pod_meets_the_restricted_pod_security_standard(
    default_manifests: list[Manifest],
) -> None:
    pod = pod_spec(default_manifests)["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["runAsUser"] != 0
    security = container(default_manifests)["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["readOnlyRootFilesystem"] is True
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security.get("privileged", False) is False


def test_security_contexts_are_at_least_those_of_operator_yaml(
    default_manifests: list[Manifest],
) -> None:
    assert (
        REFERENCE_POD["securityContext"].items()
        <= pod_spec(default_manifests)["securityContext"].items()
    )
    reference_container = REFERENCE_POD["containers"][0]["securityContext"]
    assert reference_container.items() <= container(default_manifests)["securityContext"].items()


def test_a_writable_tmp_under_the_read_only_root(default_manifests: list[Manifest]) -> None:
    mounts = {m["name"]: m["mountPath"] for m in container(default_manifests)["volumeMounts"]}
    assert mounts == {"tmp": "/tmp"}
    (volume,) = pod_spec(default_manifests)["volumes"]
    assert volume["name"] == "tmp"
    assert "emptyDir" in volume


def test_liveness_probe_asks_kopf_health_endpoint(default_manifests: list[Manifest]) -> None:
    probe = container(default_manifests)["livenessProbe"]
    assert probe["httpGet"] == {"path": "/healthz", "port": "health"}
    # The named port is the one the operator listens on.
    assert port_number(default_manifests, "health") == int(
        plain_env(default_manifests)[LIVENESS_PORT]
    )
    assert probe == REFERENCE_POD["containers"][0]["livenessProbe"]


def test_the_metrics_port_is_the_one_the_operator_serves(
    default_manifests: list[Manifest],
) -> None:
    assert port_number(default_manifests, "metrics") == int(
        plain_env(default_manifests)[METRICS_PORT]
    )


def test_default_environment_is_what_the_operator_defaults_to(
    default_manifests: list[Manifest],
) -> None:
    config = load_config({**plain_env(default_manifests), **DOWNWARD_API})
    defaults = load_config({**DOWNWARD_API, "LEADER_ELECTION": "true"})
    assert config == dataclasses.replace(defaults, leader_election=config.leader_election)
    assert defaults.leader_election is not None
    deployment_name = one(default_manifests, "Deployment")["metadata"]["name"]
    assert config.leader_election == dataclasses.replace(
        defaults.leader_election, lease_name=deployment_name
    )


def test_values_reach_the_operator_as_it_parses_them(helm: Helm) -> None:
    manifests = helm.template(
        {
            "watchNamespaces": ["team-a", "team-b"],
            "logLevel": "debug",
            "resyncSeconds": 0,
            "metrics": {"port": 9090},
            "health": {"port": 9091},
        }
    )
    env = plain_env(manifests)
    assert set(env) >= {WATCH_NAMESPACES, METRICS_PORT, LIVENESS_PORT, LOG_LEVEL, RESYNC_SECONDS}
    config = load_config({**env, **DOWNWARD_API})
    assert config.watch_namespaces == ("team-a", "team-b")
    assert config.log_level == "debug"
    assert config.resync_seconds == 0
    assert config.metrics_port == port_number(manifests, "metrics") == 9090
    assert config.liveness_port == port_number(manifests, "health") == 9091


def test_the_image_entrypoint_runs_unchanged(default_manifests: list[Manifest]) -> None:
    # Dockerfile.operator's exec-form ENTRYPOINT (ingest-operator) is PID 1 and gets SIGTERM.
    assert "command" not in container(default_manifests)
    assert "args" not in container(default_manifests)


def test_the_pod_names_itself_from_the_downward_api(default_manifests: list[Manifest]) -> None:
    (pod_name,) = [e for e in container(default_manifests)["env"] if e["name"] == POD_NAME]
    assert pod_name["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ({}, f"registry.example.com/ingest-operator:{APP_VERSION}"),
        ({"repository": "mirror.local/ops/op", "tag": "1.2.3"}, "mirror.local/ops/op:1.2.3"),
        (
            {"tag": "1.2.3", "digest": "sha256:" + "a" * 64},
            "registry.example.com/ingest-operator@sha256:" + "a" * 64,
        ),
    ],
)
def test_image_reference(helm: Helm, image: dict[str, str], expected: str) -> None:
    assert container(helm.template({"image": image}))["image"] == expected


def test_pull_policy_and_secrets(helm: Helm) -> None:
    manifests = helm.template(
        {"image": {"pullPolicy": "Always"}, "imagePullSecrets": [{"name": "registry"}]}
    )
    assert container(manifests)["imagePullPolicy"] == "Always"
    assert pod_spec(manifests)["imagePullSecrets"] == [{"name": "registry"}]


def test_resources_default_and_override(helm: Helm, default_manifests: list[Manifest]) -> None:
    assert container(default_manifests)["resources"] == REFERENCE_POD["containers"][0]["resources"]
    resources = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "2Gi"}}
    assert container(helm.template({"resources": resources}))["resources"] == resources


def test_the_selector_is_stable_across_chart_versions(default_manifests: list[Manifest]) -> None:
    # A Deployment's selector is immutable: nothing that changes between releases in it.
    deployment = one(default_manifests, "Deployment")
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector == {
        "app.kubernetes.io/name": "ingest-operator",
        "app.kubernetes.io/instance": "demo",
    }
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()

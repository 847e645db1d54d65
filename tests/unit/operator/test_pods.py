"""Pod templates: the environment contract, no secret in a pod, security, probes, resources."""

from __future__ import annotations

import base64
import json

from ingest_operator.service_env import API_ONLY_ENV_VARS, SERVICE_ENV_VARS, render_config_data
from ingest_operator.spec import parse_spec
from tests.support.ingest_service_builders import (
    ADMIN_SECRET,
    DB_SECRET,
    IMAGE,
    JWT_SECRET,
    REDIS_SECRET,
    S3_SECRET,
    SECRET_VALUES,
    minimal_spec,
    spec_with_every_reference,
)
from tests.unit.operator.rendered_children import (
    env_by_name,
    only_container,
    pod_templates,
    render_children,
)


def test_every_variable_is_one_of_the_contract_s() -> None:
    for role, template in pod_templates(render_children(spec_with_every_reference())).items():
        assert set(env_by_name(template)) <= SERVICE_ENV_VARS, role


def test_each_workload_gets_the_variables_it_needs() -> None:
    workloads = pod_templates(render_children(spec_with_every_reference()))
    shared = {
        "ENVIRONMENT", "DEBUG", "LOG_LEVEL", "LOG_FORMAT", "DATABASE_URL", "REDIS_URL",
        "S3_ENDPOINT", "S3_ALLOW_PLAIN_HTTP", "S3_REGION", "S3_BUCKET", "S3_ACCESS_KEY",
        "S3_SECRET_KEY",
        "JWT_SECRET_KEY", "CORS_ORIGINS", "RATE_LIMIT_PER_MINUTE", "MAX_DECOMPRESSED_BYTES",
        "MAX_COMPRESSION_RATIO", "MAX_LINE_BYTES", "MAX_PROCESSING_SECONDS", "MAX_JOB_RETRIES",
        "RETAIN_UPLOADS_DAYS", "RETAIN_RESULTS_DAYS", "RETAIN_FINISHED_JOBS_DAYS",
    }  # fmt: skip
    bootstrap = {"BOOTSTRAP_ADMIN_USERNAME", "BOOTSTRAP_ADMIN_PASSWORD"}

    identity = {"PASSWORD_LOGIN", "OIDC_ISSUERS"}
    api_only = bootstrap | identity | {"PORT", "METRICS_PORT"}
    assert set(env_by_name(workloads["api"])) == shared | api_only
    assert set(env_by_name(workloads["worker"])) == shared | {"METRICS_PORT"}
    assert set(env_by_name(workloads["migration"])) == shared
    assert set(env_by_name(workloads["purge"])) == shared
    assert env_by_name(workloads["api"])["PORT"]["value"] == "8000"
    assert env_by_name(workloads["worker"])["METRICS_PORT"]["value"] == "9100"


def test_without_a_bootstrap_ref_no_bootstrap_variables() -> None:
    api = pod_templates(render_children())["api"]
    assert not {"BOOTSTRAP_ADMIN_USERNAME", "BOOTSTRAP_ADMIN_PASSWORD"} & set(env_by_name(api))


def test_settings_come_from_the_config_map_by_their_own_name() -> None:
    env = env_by_name(pod_templates(render_children())["worker"])
    for key in render_config_data(parse_spec(minimal_spec())).keys() - API_ONLY_ENV_VARS:
        assert env[key]["valueFrom"] == {"configMapKeyRef": {"name": "demo-config", "key": key}}


def test_credentials_come_through_secret_key_refs() -> None:
    env = env_by_name(pod_templates(render_children(spec_with_every_reference()))["api"])

    def source(name: str) -> dict[str, str]:
        ref: dict[str, str] = env[name]["valueFrom"]["secretKeyRef"]
        return ref

    assert source("DATABASE_URL") == {"name": DB_SECRET, "key": "url"}
    assert source("REDIS_URL") == {"name": REDIS_SECRET, "key": "url"}
    assert source("S3_ACCESS_KEY") == {"name": S3_SECRET, "key": "accessKey"}
    assert source("S3_SECRET_KEY") == {"name": S3_SECRET, "key": "secretKey"}
    assert source("JWT_SECRET_KEY") == {"name": JWT_SECRET, "key": "jwtSecretKey"}
    assert source("BOOTSTRAP_ADMIN_USERNAME") == {"name": ADMIN_SECRET, "key": "username"}
    assert source("BOOTSTRAP_ADMIN_PASSWORD") == {"name": ADMIN_SECRET, "key": "password"}


def test_the_generated_jwt_key_is_referenced_not_inlined() -> None:
    env = env_by_name(pod_templates(render_children())["api"])
    assert env["JWT_SECRET_KEY"]["valueFrom"]["secretKeyRef"] == {
        "name": "demo-generated",
        "key": "jwtSecretKey",
    }


def test_no_secret_value_appears_outside_the_generated_secret() -> None:
    for with_refs in (minimal_spec(), spec_with_every_reference()):
        for (kind, name), obj in render_children(with_refs).items():
            if kind == "Secret":
                continue
            text = json.dumps(obj)
            for value in SECRET_VALUES:
                assert value not in text, (kind, name)
                assert base64.b64encode(value.encode()).decode() not in text, (kind, name)


def test_only_ports_are_literal_values_in_the_environment() -> None:
    for role, template in pod_templates(render_children(spec_with_every_reference())).items():
        literal = {name for name, entry in env_by_name(template).items() if "value" in entry}
        assert literal <= {"PORT", "METRICS_PORT"}, role


# --- pods ------------------------------------------------------------------------------


def test_each_workload_runs_its_command_from_the_image() -> None:
    raw = {**minimal_spec(), "imagePullPolicy": "Always"}
    commands = {
        role: (
            only_container(t)["command"],
            only_container(t)["image"],
            only_container(t)["imagePullPolicy"],
        )
        for role, t in pod_templates(render_children(raw)).items()
    }
    assert commands == {
        "api": (["ingest-api"], IMAGE, "Always"),
        "worker": (["ingest-worker"], IMAGE, "Always"),
        "migration": (["ingest-migrate"], IMAGE, "Always"),
        "purge": (["ingest-admin"], IMAGE, "Always"),
    }


def test_pods_run_under_the_restricted_security_profile() -> None:
    for role, template in pod_templates(render_children()).items():
        pod = template["spec"]
        container = only_container(template)
        assert pod["securityContext"]["runAsNonRoot"] is True, role
        assert pod["securityContext"]["runAsUser"] == 10001, role
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, role
        assert pod["automountServiceAccountToken"] is False, role
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False, role
        assert context["readOnlyRootFilesystem"] is True, role
        assert context["runAsNonRoot"] is True, role
        assert context["capabilities"] == {"drop": ["ALL"]}, role
        assert context["seccompProfile"] == {"type": "RuntimeDefault"}, role
        assert pod["volumes"] == [{"name": "tmp", "emptyDir": {}}], role
        assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}], role


def test_the_api_is_probed_on_healthz_and_readyz_on_port_8000() -> None:
    api = only_container(pod_templates(render_children())["api"])

    # /metrics on 9100: the Service (port http only) never exposes it.
    assert api["ports"] == [
        {"name": "http", "containerPort": 8000},
        {"name": "metrics", "containerPort": 9100},
    ]
    assert api["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert api["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert api["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_the_worker_is_probed_on_its_metrics_port_9100() -> None:
    worker = only_container(pod_templates(render_children())["worker"])

    assert worker["ports"] == [{"name": "metrics", "containerPort": 9100}]
    assert worker["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
    assert worker["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}


def test_resources_come_from_the_spec() -> None:
    raw = {
        **minimal_spec(),
        "resources": {"worker": {"requests": {"cpu": "500m"}, "limits": {"memory": "3Gi"}}},
    }
    workloads = pod_templates(render_children(raw))

    assert only_container(workloads["worker"])["resources"] == {
        "requests": {"cpu": "500m", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "3Gi"},
    }
    assert only_container(workloads["api"])["resources"] == {
        "requests": {"cpu": "100m", "memory": "256Mi"},
        "limits": {"cpu": "1", "memory": "512Mi"},
    }


def test_the_api_rolls_out_without_losing_capacity() -> None:
    strategy = render_children()["Deployment", "demo-api"]["spec"]["strategy"]
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_only_the_api_pod_gets_a_token_and_only_with_workload_identity() -> None:
    raw = spec_with_every_reference()
    assert "kubernetes-identity" not in str(pod_templates(render_children(raw))["api"])
    raw["auth"] = {
        **raw["auth"],
        "workloadIdentity": {
            "audience": "ingest-api",
            "serviceAccounts": [{"namespace": "apps", "role": "uploader"}],
        },
    }
    workloads = pod_templates(render_children(raw))
    api = workloads["api"]["spec"]
    [volume] = [v for v in api["volumes"] if v["name"] == "kubernetes-identity"]
    token, ca = volume["projected"]["sources"]
    assert token["serviceAccountToken"] == {"path": "token", "expirationSeconds": 3600}
    assert ca["configMap"]["name"] == "kube-root-ca.crt"
    mounts = api["containers"][0]["volumeMounts"]
    assert {"name": "kubernetes-identity", "mountPath": "/var/run/secrets/ingest/kubernetes",
            "readOnly": True} in mounts  # fmt: skip
    assert api["automountServiceAccountToken"] is False
    assert "KUBERNETES_IDENTITY" in env_by_name(workloads["api"])
    for other in ("worker", "migration", "purge"):
        assert "kubernetes-identity" not in str(workloads[other]), other
        assert "KUBERNETES_IDENTITY" not in env_by_name(workloads[other]), other

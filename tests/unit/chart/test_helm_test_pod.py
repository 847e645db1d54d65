"""The `helm test` Pod asks the operator's Service whether the operator is up.

There is no kubelet on the local control plane, so the Pod never runs here
(tests/integration/chart checks that `helm test` creates it and the API
server admits it); these tests check what it would do: its script compiles,
and it asks the Service's name, namespace and ports the chart renders.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.chart import Helm, HelmError, Manifest, of_kind, one


def hook_pod(manifests: list[Manifest]) -> dict[str, Any]:
    (pod,) = of_kind(manifests, "Pod")
    return pod


def script(pod: dict[str, Any]) -> str:
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["python", "-c"]
    (source,) = container["args"]
    text: str = source
    return text


def test_it_is_a_helm_test_hook_that_cleans_up(default_manifests: list[Manifest]) -> None:
    annotations = hook_pod(default_manifests)["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "test"
    assert annotations["helm.sh/hook-delete-policy"] == "before-hook-creation,hook-succeeded"
    assert hook_pod(default_manifests)["spec"]["restartPolicy"] == "Never"


def test_its_script_is_valid_python(default_manifests: list[Manifest]) -> None:
    compile(script(hook_pod(default_manifests)), "helm-test", "exec")


def test_it_asks_the_operators_service_for_health_and_metrics(helm: Helm) -> None:
    manifests = helm.template(
        {"metrics": {"port": 9090}, "health": {"port": 9091}}, release="r1", namespace="ops"
    )
    service = one(manifests, "Service")["metadata"]
    source = script(hook_pod(manifests))
    base = f"http://{service['name']}.{service['namespace']}.svc"
    assert f'base = "{base}"' in source
    assert '{base}:9091/healthz"' in source
    assert '{base}:9090/metrics"' in source
    # A metric the operator registers at start-up, before any reconciliation.
    assert "ingest_operator_reconciles" in source


def test_it_runs_restricted_with_the_operators_image(default_manifests: list[Manifest]) -> None:
    pod = hook_pod(default_manifests)
    (container,) = pod["spec"]["containers"]
    operator = one(default_manifests, "Deployment")["spec"]["template"]["spec"]
    assert container["image"] == operator["containers"][0]["image"]
    assert pod["spec"]["securityContext"] == operator["securityContext"]
    assert container["securityContext"] == operator["containers"][0]["securityContext"]
    assert pod["spec"]["automountServiceAccountToken"] is False


def test_another_image_needs_a_tag(helm: Helm) -> None:
    with pytest.raises(HelmError, match=r"tests\.image\.tag is required"):
        helm.template({"tests": {"image": {"repository": "python"}}})
    manifests = helm.template({"tests": {"image": {"repository": "python", "tag": "3.11-slim"}}})
    assert hook_pod(manifests)["spec"]["containers"][0]["image"] == "python:3.11-slim"

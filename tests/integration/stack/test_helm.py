"""helm, built from source, renders and installs a chart on the local control plane."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import yaml
from kubernetes import client as kube_client

from tests.support.local_stack import Component

CHART = Path(__file__).parents[2] / "fixtures" / "charts" / "smoke"


def helm(kube_service: Component, *args: str) -> subprocess.CompletedProcess[str]:
    settings = kube_service.settings
    env = {**os.environ, "KUBECONFIG": settings["KUBECONFIG"]}
    return subprocess.run(
        [settings["HELM"], *args], env=env, text=True, capture_output=True, check=True, timeout=120
    )


def test_helm_template_renders_values(kube_service: Component) -> None:
    rendered = helm(kube_service, "template", "demo", str(CHART), "--set", "message=rendered")
    (config_map,) = [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    assert config_map["kind"] == "ConfigMap"
    assert config_map["metadata"]["name"] == "demo-greeting"
    assert config_map["data"] == {"message": "rendered"}


def test_helm_install_and_uninstall_on_the_control_plane(
    kube_service: Component, kube_api: kube_client.ApiClient, namespace: str
) -> None:
    core = kube_client.CoreV1Api(kube_api)
    helm(
        kube_service,
        "install",
        "demo",
        str(CHART),
        "-n",
        namespace,
        "--set",
        "message=installed",
        "--wait",
    )

    stored = core.read_namespaced_config_map("demo-greeting", namespace)
    assert stored.data == {"message": "installed"}
    listing = helm(kube_service, "list", "-n", namespace, "-o", "yaml")
    assert [release["name"] for release in yaml.safe_load(listing.stdout)] == ["demo"]

    helm(kube_service, "uninstall", "demo", "-n", namespace, "--wait")
    remaining = core.list_namespaced_config_map(
        namespace, label_selector="app.kubernetes.io/managed-by=Helm"
    )
    assert remaining.items == []

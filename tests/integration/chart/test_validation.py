"""Every object the chart renders passes the API server's own strict validation.

`helm install` sends objects with the API server's default field validation,
which only warns about a field it does not know, so a misspelt field in a
template would install and silently do nothing. Here the rendering with
every option on goes through a server-side dry run with strict validation
instead. The ServiceMonitor is left out: its kind needs prometheus-operator's
CRDs, which the local control plane does not have.
"""

from __future__ import annotations

import os
import subprocess

import yaml

from tests.support.chart import Helm, Release
from tests.support.local_stack import Component


def test_every_rendered_object_passes_strict_server_validation(
    helm: Helm, kube_service: Component, release: Release
) -> None:
    manifests = helm.template(
        {
            "watchNamespaces": [release.namespace],
            "podDisruptionBudget": {"enabled": True},
            "networkPolicy": {
                "enabled": True,
                "apiServer": {"cidrs": ["10.0.0.1/32"]},
                "metricsFrom": [{"namespaceSelector": {"matchLabels": {"team": "monitoring"}}}],
            },
        },
        release=release.name,
        namespace=release.namespace,
    )
    kinds = {m["kind"] for m in manifests}
    assert {"NetworkPolicy", "PodDisruptionBudget", "RoleBinding", "Pod"} <= kinds

    settings = kube_service.settings
    result = subprocess.run(
        [
            settings["KUBECTL"],
            "apply",
            "--server-side",
            # The CRD already belongs to another field manager (Helm); a dry run changes nothing.
            "--force-conflicts",
            "--dry-run=server",
            "--validate=strict",
            "-f",
            "-",
        ],
        input=yaml.safe_dump_all(manifests),
        env={**os.environ, "KUBECONFIG": settings["KUBECONFIG"]},
        text=True,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr, result.stderr
    assert result.stdout.count("serverside-applied (server dry run)") == len(manifests)

"""`helm lint --strict` passes, and values.schema.json refuses a wrong value with its path.

Helm validates values against the schema before rendering anything, at
install, upgrade, template and lint alike, so a refusal here is the message
a user gets from `helm install`.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from tests.support.chart import CHART_DIR, Helm, HelmError

EVERYTHING_ON: dict[str, Any] = {
    "watchNamespaces": ["team-a"],
    "podDisruptionBudget": {"enabled": True},
    "serviceMonitor": {"enabled": True, "scrapeTimeout": "10s"},
    "networkPolicy": {"enabled": True, "apiServer": {"cidrs": ["10.0.0.1/32"]}},
    "image": {"digest": "sha256:" + "0" * 64},
}


def test_lint_strict_passes_with_defaults(helm: Helm) -> None:
    assert "0 chart(s) failed" in helm.lint()


def test_lint_strict_passes_with_every_option_on(helm: Helm) -> None:
    assert "0 chart(s) failed" in helm.lint(EVERYTHING_ON)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"replicas": "two"}, "at '/replicas': got string, want integer"),
        # Without a Lease, a second replica would reconcile too.
        (
            {"replicas": 2, "leaderElection": {"enabled": False}},
            "at '/replicas': maximum: got 2, want 1",
        ),
        (
            {"leaderElection": {"leaseDurationSeconds": 0}},
            "at '/leaderElection/leaseDurationSeconds': minimum: got 0, want 1",
        ),
        ({"replicas": -1}, "at '/replicas': minimum: got -1, want 0"),
        ({"logLevel": "loud"}, "at '/logLevel': value must be one of 'debug', 'info'"),
        ({"image": {"tag": 5}}, "at '/image/tag': got number, want string"),
        ({"image": {"pullPolicy": "Sometimes"}}, "at '/image/pullPolicy': value must be one of"),
        ({"image": {"digest": "latest"}}, "at '/image/digest': 'latest' does not match pattern"),
        ({"replica": 1}, "additional properties 'replica' not allowed"),
        ({"watchNamespaces": ["Team_A"]}, "at '/watchNamespaces/0': 'Team_A' does not match"),
        ({"watchNamespaces": ["a", "a"]}, "at '/watchNamespaces': items at 0 and 1 are equal"),
        ({"watchNamespaces": "team-a"}, "at '/watchNamespaces': got string, want array"),
        ({"resyncSeconds": 1.5}, "at '/resyncSeconds': got number, want integer"),
        ({"metrics": {"port": 70000}}, "at '/metrics/port': maximum: got 70,000, want 65,535"),
        ({"serviceMonitor": {"interval": "often"}}, "at '/serviceMonitor/interval'"),
        ({"networkPolicy": {"apiServer": {"ports": []}}}, "at '/networkPolicy/apiServer/ports'"),
    ],
)
def test_a_wrong_value_is_refused_with_its_path(
    helm: Helm, values: dict[str, Any], message: str
) -> None:
    with pytest.raises(HelmError) as refused:
        helm.template(values)
    assert "values don't meet the specifications of the schema" in refused.value.stderr
    assert message in refused.value.stderr


def test_every_value_is_in_the_readmes_table() -> None:
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    readme = (CHART_DIR / "README.md").read_text()
    for key in values:
        assert f"`{key}`" in readme or f"`{key}." in readme, f"{key} is not documented"

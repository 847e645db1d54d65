"""The alert rules load in Prometheus's own checker, each alert fires (and
stays quiet) as its promtool unit tests say, and every alert has a runbook."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.chart import tool_binary
from tests.support.local_stack import REPO_ROOT

MONITORING = REPO_ROOT / "monitoring"
RULES = MONITORING / "ingest-service.rules.yaml"
RULE_TESTS = MONITORING / "ingest-service.rules.test.yaml"


@pytest.fixture(scope="session")
def promtool() -> Path:
    binary = tool_binary("PROMTOOL")
    if not binary.is_file():
        pytest.fail(f"promtool is not built yet ({binary}); run hack/build-tools.sh prometheus")
    return binary


def alert_names() -> list[str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule["alert"] for group in groups for rule in group["rules"] if "alert" in rule]


def run(promtool: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(promtool), *args], cwd=MONITORING, capture_output=True, text=True, timeout=120
    )


def test_the_rules_pass_promtools_check_with_its_lint_fatal(promtool: Path) -> None:
    checked = run(promtool, "check", "rules", "--lint-fatal", RULES.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(alert_names())} rules found" in checked.stdout


def test_every_alert_behaves_as_its_unit_tests_say(promtool: Path) -> None:
    tested = run(promtool, "test", "rules", RULE_TESTS.name)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_unit_tests_that_expect_it_to_fire() -> None:
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    firing = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if case["exp_alerts"]
    }
    quiet = {
        case["alertname"]
        for test in tests
        for case in test.get("alert_rule_test", [])
        if not case["exp_alerts"]
    }
    assert firing == set(alert_names())
    assert quiet == set(alert_names())


def test_every_alert_links_a_runbook_that_exists() -> None:
    runbooks = (MONITORING / "README.md").read_text()
    headings = {
        re.sub(r"[^a-z0-9]", "", line.lstrip("#").strip().lower())
        for line in runbooks.splitlines()
        if line.startswith("### ")
    }
    for group in yaml.safe_load(RULES.read_text())["groups"]:
        for rule in group["rules"]:
            anchor = rule["alert"].lower()
            assert rule["annotations"]["runbook"] == f"monitoring/README.md#{anchor}"
            assert anchor in headings, f"no runbook for {rule['alert']}"
            assert rule["labels"]["severity"] in {"critical", "warning"}

"""The files hack/generate.py copies from one source are current (make generate)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tests.support.local_stack import REPO_ROOT

GENERATOR = REPO_ROOT / "hack" / "generate.py"


def generator() -> ModuleType:
    """hack/generate.py, loaded as a module (it is a script, not part of a package)."""
    spec = importlib.util.spec_from_file_location("generate", GENERATOR)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_generated_file_is_current() -> None:
    assert generator().stale() == []


def test_a_missing_or_edited_copy_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = generator()
    # The chart's folder, empty but for one hand-edited copy.
    monkeypatch.setattr(script, "CHART_FILES", tmp_path)
    (tmp_path / "rbac-rules.yaml").write_text("clusterRole: []\n")

    stale = script.stale()

    assert tmp_path / "rbac-rules.yaml" in stale
    assert any(path.parent == tmp_path / "crds" for path in stale)

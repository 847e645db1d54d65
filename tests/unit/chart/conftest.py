"""Fixtures of the chart's template tests: the locally built helm, without a cluster.

`helm template` and `helm lint` need no API server, so these tests are unit
tests; they do need the helm binary, which `make test` builds first. On a
fresh machine where only `make test-unit` ran, they skip and say so.
"""

from __future__ import annotations

import pytest

from tests.support.chart import Helm, Manifest, helm_binary


@pytest.fixture(scope="session")
def helm() -> Helm:
    binary = helm_binary()
    if not binary.is_file():
        # `make test` builds the tools first; a missing helm is a broken setup,
        # never a reason to pass without checking the chart.
        pytest.fail(f"helm is not built yet ({binary}); run hack/build-tools.sh helm")
    return Helm(binary)


@pytest.fixture(scope="session")
def default_manifests(helm: Helm) -> list[Manifest]:
    """The chart rendered with its default values, the tests' Pod included."""
    return helm.template()

"""Run the locally built helm on charts/ingest-operator, for the chart tests.

The helm binary is the one hack/build-tools.sh builds and `hack/stack.sh env
controlplane` names; nothing here starts a service. `helm template` and
`helm lint` need no cluster, so the unit tests use them with a KUBECONFIG
that points nowhere; the integration tests pass the local control plane's.

Values travel as a YAML document on stdin (`-f -`) rather than `--set`, so
a test can hand the schema exactly the type it means (`image.tag: 5` is a
number, `"5"` a string) without `--set`'s guessing.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.cluster import Cluster
from tests.support.local_stack import REPO_ROOT, STACK_SCRIPT, parse_env

CHART_DIR = REPO_ROOT / "charts" / "ingest-operator"
# The chart's copy of crds/; templates/crds.yaml renders it.
CHART_CRD_DIR = CHART_DIR / "files" / "crds"
VERSIONS_FILE = REPO_ROOT / "hack" / "versions.env"

# A render takes well under a second; an install against the local API server a few.
HELM_TIMEOUT_SECONDS = 120

Manifest = dict[str, Any]

# libyaml's loader when PyYAML has it: every render carries the 600-line CRD,
# which the pure-Python loader takes a quarter of a second to read.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def kubernetes_version() -> str:
    """The control plane's Kubernetes version (hack/versions.env), e.g. v1.34.4.

    helm built with `go install` lacks the Kubernetes version release builds
    get at link time, so `helm template` and `helm lint` would assume v1.20
    and refuse the chart's kubeVersion (>=1.29): the tests render for the
    version the local control plane runs.
    """
    return parse_env(VERSIONS_FILE.read_text())["KUBERNETES_VERSION"]


def tool_binary(name: str) -> Path:
    """Where hack/build-tools.sh puts a tool `hack/stack.sh env controlplane`
    names (HELM, PROMTOOL, ...; the file may not exist yet on a fresh machine)."""
    env = subprocess.run(
        [str(STACK_SCRIPT), "env", "controlplane"],
        check=True,
        text=True,
        capture_output=True,
        timeout=30,
    )
    return Path(parse_env(env.stdout)[name])


def helm_binary() -> Path:
    return tool_binary("HELM")


class HelmError(Exception):
    """helm exited non-zero; `stderr` holds what it said."""

    def __init__(self, args: Iterable[str], stderr: str) -> None:
        super().__init__(f"helm {' '.join(args)} failed:\n{stderr}")
        self.stderr = stderr


@dataclass(frozen=True)
class Helm:
    """helm with one KUBECONFIG; `kubeconfig=None` for commands that need no cluster."""

    binary: Path
    kubeconfig: str | None = None

    def run(self, *args: str, values: Mapping[str, Any] | None = None) -> str:
        """helm's stdout; HelmError when it exits non-zero."""
        # A KUBECONFIG that does not exist keeps cluster-free commands off any cluster.
        kubeconfig = self.kubeconfig or os.devnull
        command = [*args, "-f", "-"] if values is not None else list(args)
        result = subprocess.run(
            [str(self.binary), *command],
            input=yaml.safe_dump(dict(values)) if values is not None else None,
            env={**os.environ, "KUBECONFIG": kubeconfig},
            text=True,
            capture_output=True,
            timeout=HELM_TIMEOUT_SECONDS,
            check=False,
        )
        if result.returncode != 0:
            raise HelmError(command, result.stderr)
        return result.stdout

    def template(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        release: str = "demo",
        namespace: str = "ingest-system",
        chart: Path = CHART_DIR,
        extra: Iterable[str] = (),
    ) -> list[Manifest]:
        """The documents `helm template` renders (tests included), parsed."""
        rendered = self.run(
            "template",
            release,
            str(chart),
            "--namespace",
            namespace,
            "--kube-version",
            kubernetes_version(),
            *extra,
            values=values or {},
        )
        return [doc for doc in yaml.load_all(rendered, Loader=_Loader) if doc]

    def lint(self, values: Mapping[str, Any] | None = None, *, chart: Path = CHART_DIR) -> str:
        return self.run(
            "lint", "--strict", "--kube-version", kubernetes_version(), str(chart), values=values
        )

    # --- against a cluster (kubeconfig set) ---------------------------------------

    def install(
        self,
        release: str,
        namespace: str,
        values: Mapping[str, Any] | None = None,
        *,
        chart: Path = CHART_DIR,
    ) -> str:
        """`helm install` without --wait: no kubelet runs the pods, so none becomes ready."""
        return self.run("install", release, str(chart), "-n", namespace, values=values or {})

    def upgrade(
        self,
        release: str,
        namespace: str,
        values: Mapping[str, Any] | None = None,
        *,
        chart: Path = CHART_DIR,
    ) -> str:
        return self.run("upgrade", release, str(chart), "-n", namespace, values=values or {})

    def uninstall(self, release: str, namespace: str) -> str:
        return self.run("uninstall", release, "-n", namespace, "--wait", "--timeout", "60s")

    def releases(self, namespace: str) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = yaml.safe_load(
            self.run("list", "-n", namespace, "-o", "yaml")
        )
        return listed or []


def of_kind(manifests: Iterable[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def one(manifests: Iterable[Manifest], kind: str) -> Manifest:
    """The single object of `kind`; fails with the kinds found otherwise."""
    found = of_kind(manifests, kind)
    if len(found) != 1:
        raise AssertionError(f"expected one {kind}, found {len(found)}")
    return found[0]


def kinds(manifests: Iterable[Manifest]) -> set[str]:
    return {m["kind"] for m in manifests}


def load_yaml_documents(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


# --- a release on the local control plane ------------------------------------------


@dataclass(frozen=True)
class Release:
    """A Helm release of the chart for one test."""

    name: str
    namespace: str

    @property
    def fullname(self) -> str:
        """The name the chart gives its objects (templates/_helpers.tpl)."""
        return f"{self.name}-ingest-operator"


def service_account_may(
    cluster: Cluster, release: Release, verb: str, resource: str, namespace: str, group: str = ""
) -> bool:
    """What the API server's authorizer lets the chart's ServiceAccount do (SubjectAccessReview)."""
    account = f"system:serviceaccount:{release.namespace}:{release.fullname}"
    review: dict[str, Any] = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": account,
            "groups": ["system:serviceaccounts", f"system:serviceaccounts:{release.namespace}"],
            "resourceAttributes": {
                "verb": verb,
                "group": group,
                "resource": resource,
                "namespace": namespace,
            },
        },
    }
    answer = cluster.request(
        "POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", body=review
    )
    return bool(answer["status"].get("allowed"))

"""The images the chart and the operator run, checked from their Dockerfiles.

No container engine runs here, so nothing is built: these tests read
Dockerfile.api and Dockerfile.operator and check what a build would give.
They live beside the chart's tests because the chart (and the operator, for
the API's pods) is what runs these images, with the user and commands
checked here. hack/lint-dockerfiles.sh lints the same files with hadolint.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from typing import Any

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from ingest_operator import pods
from tests.support.chart import CHART_DIR
from tests.support.local_stack import REPO_ROOT
from tests.unit.chart.dockerfiles import (
    Dockerfile,
    Stage,
    dockerignore_patterns,
    parse_dockerfile,
)

API = parse_dockerfile(REPO_ROOT / "Dockerfile.api")
OPERATOR = parse_dockerfile(REPO_ROOT / "Dockerfile.operator")
IMAGES = [pytest.param(API, id="api"), pytest.param(OPERATOR, id="operator")]
PYPROJECT: dict[str, Any] = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
# Each image installs one distribution of the workspace: its folder's.
MEMBERS = {"api": API, "operator": OPERATOR}
MEMBER_PYPROJECTS: dict[str, dict[str, Any]] = {
    member: tomllib.loads((REPO_ROOT / member / "pyproject.toml").read_text())
    for member in PYPROJECT["tool"]["uv"]["workspace"]["members"]
}


def console_scripts(member: str) -> set[str]:
    return set(MEMBER_PYPROJECTS[member]["project"]["scripts"])


# Exact releases: a moving tag (3.11-slim, latest) rebuilds into another image.
PINNED_PYTHON = re.compile(
    r"^python:(?P<version>\d+\.\d+\.\d+)-slim(-[a-z]+)?(@sha256:[a-f0-9]{64})?$"
)
PINNED_UV = re.compile(r"^ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+(@sha256:[a-f0-9]{64})?$")
# What would put a compiler, a package manager's cache or an installer in the final image.
BUILD_TOOLING = re.compile(
    r"\b(apt-get|apt|apk|dnf|yum|pip3?|uv|gcc|g\+\+|cc|clang|make|build-essential)\b"
)


def build_stage(image: Dockerfile) -> Stage:
    return image.stage("build")


def environment_path(image: Dockerfile) -> str:
    return build_stage(image).env()["UV_PROJECT_ENVIRONMENT"]


@pytest.mark.parametrize("image", IMAGES)
def test_base_images_are_pinned_releases(image: Dockerfile) -> None:
    python_bases = {s.base for s in image.stages if s.base.startswith("python:")}
    assert python_bases, "no python base image"
    for base in python_bases:
        match = PINNED_PYTHON.match(base)
        assert match, f"{base} is not pinned to a release"
        version = match.group("version")
        for project in [PYPROJECT, *MEMBER_PYPROJECTS.values()]:
            requires = project["project"]["requires-python"]
            assert SpecifierSet(requires).contains(version), base
    uv_bases = {s.base for s in image.stages if "astral-sh/uv" in s.base}
    assert uv_bases
    for base in uv_bases:
        assert PINNED_UV.match(base), f"{base} is not pinned to a release"


@pytest.mark.parametrize("image", IMAGES)
def test_build_and_final_stage_share_the_interpreter(image: Dockerfile) -> None:
    # The environment's bin/python links to the interpreter that built it.
    assert len(image.stages) >= 2
    assert build_stage(image).base == image.final.base
    assert build_stage(image).env()["UV_PYTHON_DOWNLOADS"] == "never"


@pytest.mark.parametrize("image", IMAGES)
def test_dependencies_come_from_the_lock(image: Dockerfile) -> None:
    stage = build_stage(image)
    syncs = [shlex.split(command) for command in stage.run_commands()]
    assert syncs, "nothing installs the project"
    for words in syncs:
        assert words[:2] == ["uv", "sync"], words
        assert {"--frozen", "--no-dev", "--no-editable"} <= set(words), words
    # uv.lock and pyproject.toml are in place before the first sync reads them.
    first_sync = stage.all("RUN")[0].line
    copied_before = {
        source
        for instruction, copy in zip(stage.all("COPY"), stage.copies(), strict=True)
        if instruction.line < first_sync
        for source in copy.sources
    }
    assert {"pyproject.toml", "uv.lock"} <= copied_before


@pytest.mark.parametrize("image", IMAGES)
def test_the_environment_is_built_where_it_runs(image: Dockerfile) -> None:
    # Console scripts carry their interpreter's absolute path in their #! line:
    # an environment built in one folder and copied to another cannot start.
    venv = environment_path(image)
    (copy,) = image.final.copies()
    assert copy.from_stage == "build"
    assert copy.sources == (venv,)
    assert copy.destination == venv
    assert image.final.env()["PATH"].split(":")[0] == f"{venv}/bin"


@pytest.mark.parametrize("image", IMAGES)
def test_the_final_stage_has_no_build_tools_or_caches(image: Dockerfile) -> None:
    # The final stage receives the environment alone (checked above), so uv, its
    # cache and the sources stay behind; it runs nothing that installs software.
    for command in image.final.run_commands():
        assert not BUILD_TOOLING.search(command), command
    build_env = build_stage(image).env()
    assert build_env["UV_NO_CACHE"] == "1"
    # Compiled at build time: the root file system is read-only in the pods.
    assert build_env["UV_COMPILE_BYTECODE"] == "1"
    assert image.final.env()["PYTHONDONTWRITEBYTECODE"] == "1"


@pytest.mark.parametrize("image", IMAGES)
def test_runs_as_the_numeric_non_root_user_the_pods_expect(image: Dockerfile) -> None:
    (user,) = image.final.all("USER")
    uid, _, gid = user.arguments.partition(":")
    # Numeric, or the kubelet cannot verify runAsNonRoot.
    assert uid.isdigit(), user.arguments
    assert gid.isdigit(), user.arguments
    assert int(uid) != 0
    assert int(uid) == pods.RUN_AS_USER
    chart_values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    assert int(uid) == chart_values["podSecurityContext"]["runAsUser"]
    assert int(gid) == chart_values["podSecurityContext"]["runAsGroup"]
    # The user exists in the image, under that id.
    (create_user,) = image.final.run_commands()
    assert f"--uid {uid}" in create_user
    assert f"--gid {gid}" in create_user
    # USER comes last among what sets up the image: nothing after it runs as root.
    keywords = [i.keyword for i in image.final.instructions]
    assert "RUN" not in keywords[keywords.index("USER") :]


@pytest.mark.parametrize("image", IMAGES)
def test_entrypoint_is_exec_form(image: Dockerfile) -> None:
    # Exec form makes the command PID 1, so the kubelet's SIGTERM reaches it.
    (entrypoint,) = image.final.all("ENTRYPOINT")
    assert entrypoint.exec_form(), entrypoint.arguments
    for cmd in image.final.all("CMD"):
        assert cmd.exec_form() is not None, cmd.arguments


def entrypoint_command(image: Dockerfile) -> str:
    (entrypoint,) = image.final.all("ENTRYPOINT")
    command = entrypoint.exec_form()
    assert command
    return command[0]


def test_the_api_image_has_every_command_the_operator_runs_in_it() -> None:
    # The operator's pods set `command` to these (pods.py); the image's default is the API.
    commands = {
        entrypoint_command(API),
        pods.API_COMMAND,
        pods.WORKER_COMMAND,
        pods.MIGRATION_COMMAND,
    }
    assert commands == {"ingest-api", "ingest-worker", "ingest-migrate"}
    assert commands <= console_scripts("api")


def test_the_operator_image_runs_the_operator() -> None:
    assert entrypoint_command(OPERATOR) == "ingest-operator"
    assert "ingest-operator" in console_scripts("operator")


@pytest.mark.parametrize("member", list(MEMBERS))
def test_each_image_installs_its_own_distribution_alone(member: str) -> None:
    image = MEMBERS[member]
    name = MEMBER_PYPROJECTS[member]["project"]["name"]
    for command in build_stage(image).run_commands():
        words = shlex.split(command)
        assert words[words.index("--package") + 1] == name, command
    copied = {source.rstrip("/") for copy in build_stage(image).copies() for source in copy.sources}
    # Its sources and those of the members it depends on (ingest-policy); of the
    # other members, only what uv needs to read the lock.
    dependencies = MEMBER_PYPROJECTS[member]["project"]["dependencies"]
    needed = {
        other
        for other, pyproject in MEMBER_PYPROJECTS.items()
        if pyproject["project"]["name"] in dependencies
    }
    assert {member} | needed <= copied
    others = set(MEMBER_PYPROJECTS) - {member} - needed
    assert not others & copied
    assert {f"{other}/pyproject.toml" for other in MEMBER_PYPROJECTS} <= copied
    # The readme is part of the workspace's metadata the build reads.
    assert PYPROJECT["project"]["readme"] in copied


def test_dockerignore_admits_exactly_what_the_dockerfiles_copy() -> None:
    patterns = dockerignore_patterns(REPO_ROOT / ".dockerignore")
    # Deny everything first, then allow: a new file (.env, a key) stays out by default.
    assert patterns[0] == "*"
    allowed = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    copied = {
        source.rstrip("/")
        for image in (API, OPERATOR)
        for stage in image.stages
        for copy in stage.copies()
        if copy.from_stage is None
        for source in copy.sources
    }
    # Every copied path is admitted, and every admitted path is copied.
    assert all(any(c == a or c.startswith(f"{a}/") for a in allowed) for c in copied), copied
    assert allowed <= copied
    for generated in ("**/__pycache__", "**/*.egg-info"):
        assert generated in patterns

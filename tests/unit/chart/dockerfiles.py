"""Reads a Dockerfile into stages and instructions, for the image tests (pure).

No container engine runs here, so the images are checked from their
Dockerfiles. This follows the Dockerfile reference closely enough for our
files: comment lines, backslash continuations (comment lines inside one are
dropped, as BuildKit does), global ARGs substituted into FROM, JSON (exec)
form told apart from shell form. hadolint (hack/lint-dockerfiles.sh) lints
the same files with BuildKit's own rules.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str
    line: int

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form ENTRYPOINT, CMD or RUN; None for shell form."""
        if not self.arguments.startswith("["):
            return None
        try:
            parsed = json.loads(self.arguments)
        except json.JSONDecodeError:
            return None
        if isinstance(parsed, list) and all(isinstance(part, str) for part in parsed):
            return parsed
        return None


@dataclass(frozen=True)
class Copy:
    sources: tuple[str, ...]
    destination: str
    from_stage: str | None


@dataclass(frozen=True)
class Stage:
    base: str
    name: str | None
    instructions: tuple[Instruction, ...]

    def all(self, keyword: str) -> list[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def env(self) -> dict[str, str]:
        """Every ENV of the stage (KEY=value form), later ones winning."""
        values: dict[str, str] = {}
        for instruction in self.all("ENV"):
            for pair in shlex.split(instruction.arguments):
                key, _, value = pair.partition("=")
                values[key] = value
        return values

    def copies(self) -> list[Copy]:
        found = []
        for instruction in self.all("COPY"):
            words = shlex.split(instruction.arguments)
            flags: dict[str, str] = {}
            for word in words:
                if word.startswith("--"):
                    flag, _, value = word[2:].partition("=")
                    flags[flag] = value
            paths = [w for w in words if not w.startswith("--")]
            found.append(Copy(tuple(paths[:-1]), paths[-1], flags.get("from")))
        return found

    def run_commands(self) -> list[str]:
        return [i.arguments for i in self.all("RUN")]


@dataclass(frozen=True)
class Dockerfile:
    path: Path
    global_args: dict[str, str]
    stages: tuple[Stage, ...]

    @property
    def final(self) -> Stage:
        return self.stages[-1]

    def stage(self, name: str) -> Stage:
        (found,) = [s for s in self.stages if s.name == name]
        return found


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, instruction text) with continuations joined and comments dropped."""
    lines: list[tuple[int, str]] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        lines.append((start, " ".join(pending)))
        pending = []
    if pending:
        lines.append((start, " ".join(pending)))
    return lines


def _substitute(value: str, args: dict[str, str]) -> str:
    return _VARIABLE.sub(lambda m: args.get(m.group(1) or m.group(2), m.group(0)), value)


def parse_dockerfile(path: Path) -> Dockerfile:
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    current: tuple[str, str | None] | None = None
    instructions: list[Instruction] = []
    for number, text in logical_lines(path.read_text()):
        keyword, _, arguments = text.partition(" ")
        keyword = keyword.upper()
        arguments = arguments.strip()
        if keyword == "FROM":
            if current is not None:
                stages.append(Stage(current[0], current[1], tuple(instructions)))
            words = arguments.split()
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else None
            current = (_substitute(words[0], global_args), name)
            instructions = []
        elif current is None and keyword == "ARG":
            key, _, default = arguments.partition("=")
            global_args[key] = default
        else:
            instructions.append(Instruction(keyword, arguments, number))
    if current is not None:
        stages.append(Stage(current[0], current[1], tuple(instructions)))
    return Dockerfile(path, global_args, tuple(stages))


def dockerignore_patterns(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]

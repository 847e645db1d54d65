"""syslog-ng as the processing benchmark's peer: a real log processor parsing
the same decompressed input into JSON lines, in the same run.

Debian's `syslog-ng-core` runs in the foreground (`-F`) with its own
configuration, persist file, pid file and control socket in a temporary
directory, and no system source. Its one source is `stdin()`, which makes
syslog-ng exit once it has read its input to the end and written every
message (checked: its output must have as many lines as the input).
`gzip -dc FILE` feeds it, so decompression runs in a process of its own;
syslog-ng's JSON goes, uncompressed, to `wc -lc`, which only counts. Its
CPU seconds are those of the three processes, as for the gzip baseline.

What it does per line, per format: JSON lines go through `json-parser()`
and back out through `format-json` (every field, nested again; no level or
timestamp is normalised); syslog lines go through `syslog-parser()` and
`format-json` writes the header fields, the structured data and the ISO
timestamp. `process_stream` does more per line (levels, timestamps, a
summary) and compresses what it writes; the figures say what the peer
costs for comparable work, not for the same work.
"""

from __future__ import annotations

import re
import resource
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

SYSLOG_NG = "syslog-ng"
# Debian installs it in sbin, which a non-root PATH often lacks.
SYSLOG_NG_FALLBACK = Path("/usr/sbin/syslog-ng")
# Messages one source may have in flight under flow-control: the default
# (100) makes the reader wait for the writer every hundred lines.
SOURCE_WINDOW = 10_000
# Lines the reader takes per poll (default 10), for the same reason.
FETCH_LIMIT = 1_000


@dataclass(frozen=True, slots=True)
class PeerPipeline:
    """What syslog-ng does with one format: the parser it runs, the JSON it writes."""

    parser: str
    template: str


# Keyed like the benchmark's --format; any other format is not compared.
PIPELINES: dict[str, PeerPipeline] = {
    "json": PeerPipeline(
        parser='json-parser(prefix(".json."))',
        template="$(format-json --key .json.* --shift 6)",
    ),
    "syslog5424": PeerPipeline(
        parser="syslog-parser(flags(syslog-protocol))",
        template=(
            "$(format-json --scope rfc5424 --scope dot-nv-pairs --rekey .* --shift 1 "
            "--exclude DATE --key ISODATE)"
        ),
    ),
    "syslog3164": PeerPipeline(
        parser="syslog-parser()",
        template="$(format-json --scope rfc3164 --exclude DATE --key ISODATE)",
    ),
}


@dataclass(frozen=True, slots=True)
class SyslogNg:
    """An installed syslog-ng: where it is, its release, the config version it reads."""

    executable: Path
    release: str
    config_version: str


@dataclass(frozen=True, slots=True)
class Peer:
    """syslog-ng set up for one format."""

    syslog_ng: SyslogNg
    pipeline: PeerPipeline


@dataclass(frozen=True, slots=True)
class NotCompared:
    """Why syslog-ng does not run for this benchmark's format."""

    reason: str


@dataclass(frozen=True, slots=True)
class PeerRun:
    """One run of `gzip -dc FILE | syslog-ng | wc -lc`."""

    seconds: float
    cpu_seconds: float
    lines: int
    output_bytes: int


def find_syslog_ng() -> SyslogNg | None:
    """The installed syslog-ng, or None (Debian: `apt-get install syslog-ng-core`)."""
    found = shutil.which(SYSLOG_NG)
    executable = Path(found) if found else SYSLOG_NG_FALLBACK
    if not executable.exists():
        return None
    version = subprocess.run(
        [str(executable), "--version"], check=True, capture_output=True, text=True
    ).stdout
    release = re.search(r"^Installer-Version: (\S+)", version, re.MULTILINE)
    config = re.search(r"^Config version: (\S+)", version, re.MULTILINE)
    if release is None or config is None:
        raise SystemExit(f"{executable} --version printed no version:\n{version}")
    return SyslogNg(executable, release.group(1), config.group(1))


def render_config(pipeline: PeerPipeline, *, config_version: str) -> str:
    """The whole configuration: stdin -> parser -> JSON on stdout.

    flow-control: without it a source outrunning its destination drops
    messages instead of waiting, and the output would come up short.
    """
    return (
        f"@version: {config_version}\n"
        # process_stream keeps microseconds; syslog-ng writes none by default.
        "options { frac-digits(6); };\n"
        f"source s_input {{ stdin(flags(no-parse) log-iw-size({SOURCE_WINDOW}) "
        f"log-fetch-limit({FETCH_LIMIT})); }};\n"
        f"parser p_format {{ {pipeline.parser}; }};\n"
        f'destination d_json {{ file("/dev/stdout" template("{pipeline.template}\\n")); }};\n'
        "log { source(s_input); parser(p_format); destination(d_json); flags(flow-control); };\n"
    )


def run_syslog_ng(peer: Peer, path: Path) -> PeerRun:
    """Feed the decompressed `path` through syslog-ng once; time it and count its output."""
    syslog_ng = peer.syslog_ng
    with tempfile.TemporaryDirectory(prefix="bench-syslog-ng-") as scratch:
        state = Path(scratch)
        config = state / "syslog-ng.conf"
        config.write_text(render_config(peer.pipeline, config_version=syslog_ng.config_version))
        command = [
            str(syslog_ng.executable),
            "-F",
            "--no-caps",
            f"--cfgfile={config}",
            f"--persist-file={state / 'syslog-ng.persist'}",
            f"--pidfile={state / 'syslog-ng.pid'}",
            f"--control={state / 'syslog-ng.ctl'}",
        ]
        with (state / "stderr").open("w+") as errors:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            gunzip = subprocess.Popen(["gzip", "-dc", str(path)], stdout=subprocess.PIPE)
            daemon = subprocess.Popen(
                command, stdin=gunzip.stdout, stdout=subprocess.PIPE, stderr=errors
            )
            assert gunzip.stdout is not None
            assert daemon.stdout is not None
            gunzip.stdout.close()  # syslog-ng holds the pipe now
            count = subprocess.run(
                ["wc", "-lc"], stdin=daemon.stdout, check=True, capture_output=True, text=True
            )
            daemon.stdout.close()
            daemon_status, gunzip_status = daemon.wait(), gunzip.wait()
            seconds = time.perf_counter() - started
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if daemon_status != 0 or gunzip_status != 0:
                errors.seek(0)
                raise SystemExit(
                    f"syslog-ng exited {daemon_status}, gzip -dc {gunzip_status}:\n{errors.read()}"
                )
    lines, output_bytes = (int(field) for field in count.stdout.split())
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return PeerRun(seconds, cpu, lines, output_bytes)

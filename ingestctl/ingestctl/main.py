"""`ingestctl`: upload log files to the Ingest Service and follow their jobs.

    ingestctl login --url URL --username NAME       (password on stdin or prompted)
    ingestctl upload FILE [--label k=v ...] [--wait] [--concurrency N]
    ingestctl wait JOB_ID        ingestctl show JOB_ID        ingestctl list
    ingestctl result JOB_ID [--download PATH]

Machines skip the login: INGEST_URL and INGEST_API_KEY (or INGEST_TOKEN,
or INGEST_TOKEN_FILE for a mounted token such as a projected ServiceAccount
token) in the environment take precedence over a stored login.

A large file goes in parts, several at once; an interrupted upload (Ctrl-C,
a dropped network) continues where it stopped when the same command runs
again (exit 130 says so).

Every command takes --json for scripts (upload also writes each step as a
JSON line on stderr). Exit codes: 0 success, 1 the API
refused (its reason is printed), 2 usage, 3 the API or storage unreachable,
4 not logged in or the session expired, 5 the job failed or was cancelled.
"""

from __future__ import annotations

import argparse
import getpass
import json
import mimetypes
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from ingestctl import __version__, config, uploading
from ingestctl.client import ApiClient, CliError
from ingestctl.progress import ProgressBar, human_bytes

TERMINAL = {"completed", "failed", "cancelled"}
# The longest the API holds a request for a job to change (its limit).
LONG_POLL_SECONDS = 30
CONTENT_TYPES = {".gz": "application/gzip", ".zst": "application/zstd", ".json": "application/json",
                 ".ndjson": "application/x-ndjson", ".jsonl": "application/x-ndjson"}  # fmt: skip


def guess_content_type(path: Path) -> str:
    return CONTENT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "text/plain"


def emit(args: argparse.Namespace, data: Any, human: str) -> None:
    print(json.dumps(data, indent=2) if args.json else human)


def job_line(job: dict[str, Any]) -> str:
    reason = f"  ({job['failure_reason']})" if job.get("failure_reason") else ""
    return (
        f"{job['id']}  {job['status']:<10}  {job['filename']}  "
        f"{human_bytes(job['size_bytes'])}  {job['created_at']}{reason}"
    )


def connect() -> ApiClient:
    """A client with the environment's credential, else the stored login's."""
    try:
        credentials = config.from_environment() or config.load()
    except (config.MissingUrl, OSError) as error:
        raise CliError(str(error), 2) from error
    if credentials is None:
        raise CliError(
            "not logged in: run `ingestctl login --url URL --username NAME`, "
            "or set INGEST_URL and INGEST_API_KEY",
            4,
        )
    return ApiClient(credentials)


def cmd_login(args: argparse.Namespace) -> None:
    if sys.stdin.isatty():
        password = getpass.getpass(f"password for {args.username}: ")
    else:
        password = sys.stdin.readline().rstrip("\n")
    client = ApiClient.login(args.url, args.username, password)
    path = config.save(client.credentials)
    emit(args, {"url": args.url, "username": args.username}, f"logged in; token kept in {path}")


def cmd_upload(args: argparse.Namespace) -> None:
    path = Path(args.file)
    if not path.is_file():
        raise CliError(f"no such file: {path}", 2)
    labels = dict(label.split("=", 1) for label in args.label)
    client = connect()
    bar = ProgressBar(path.stat().st_size, f"uploading {path.name}")

    lines = threading.Lock()  # parts report from several threads

    def on_event(event: dict[str, Any]) -> None:
        # For scripts: one JSON line per step on stderr; stdout keeps the result.
        if args.json:
            with lines:
                sys.stderr.write(json.dumps(event) + "\n")
                sys.stderr.flush()

    try:
        job = uploading.upload(
            client,
            path,
            content_type=args.content_type or guess_content_type(path),
            labels=labels,
            idempotency_key=args.idempotency_key,
            concurrency=args.concurrency,
            on_progress=bar.update,
            on_event=on_event,
        )
    except KeyboardInterrupt:
        raise CliError(
            "interrupted: run the same command again to resume the upload", 130
        ) from None
    finally:
        bar.finish()
    if args.wait:
        job = wait_for(client, job["id"], args.timeout, quiet=args.json)
    emit(args, job, job_line(job))
    exit_for(job)


def wait_for(client: ApiClient, job_id: str, timeout: float, *, quiet: bool) -> Any:
    live = sys.stderr.isatty() and not quiet
    deadline = time.monotonic() + timeout
    status: str | None = None
    tag: str | None = None
    job: dict[str, Any] = {}
    while True:
        # A long poll: the API answers when the job changes, or after the wait.
        wait = max(0, min(LONG_POLL_SECONDS, int(deadline - time.monotonic())))
        changed, tag = client.watch_job(job_id, seen=tag, wait=wait)
        job = changed or job
        if job["status"] != status:
            status = job["status"]
            if live:
                sys.stderr.write(f"\rjob {job_id}: {status:<12}")
                sys.stderr.flush()
        if status in TERMINAL:
            if live:
                sys.stderr.write("\n")
            return job
        if time.monotonic() > deadline:
            raise CliError(f"job {job_id} is still {status} after {timeout:.0f} s", 1)
        if tag is None:  # an API that sends no ETag cannot hold the request: poll
            time.sleep(0.5)


def exit_for(job: dict[str, Any]) -> None:
    if job["status"] in {"failed", "cancelled"}:
        raise CliError(
            f"job {job['id']} {job['status']}: {job.get('failure_reason') or ''}".rstrip(": "), 5
        )


def cmd_wait(args: argparse.Namespace) -> None:
    job = wait_for(connect(), args.job_id, args.timeout, quiet=args.json)
    emit(args, job, job_line(job))
    exit_for(job)


def cmd_show(args: argparse.Namespace) -> None:
    client = connect()
    job = client.request("GET", f"/v1/jobs/{args.job_id}")
    events = client.request("GET", f"/v1/jobs/{args.job_id}/events")["data"]
    history = "\n".join(
        f"  {e['created_at']}  {e['from_status'] or '-':>10} -> {e['to_status']:<10} {e['actor']}"
        + (f"  ({e['reason']})" if e["reason"] else "")
        for e in events
    )
    emit(args, {**job, "events": events}, f"{job_line(job)}\n{history}")


def cmd_list(args: argparse.Namespace) -> None:
    params: dict[str, Any] = {"limit": args.limit}
    if args.status:
        params["status"] = args.status
    page = connect().request("GET", "/v1/jobs", params=params)
    lines = [job_line(job) for job in page["data"]] or ["no jobs"]
    emit(args, page, "\n".join(lines))


def cmd_result(args: argparse.Namespace) -> None:
    result = connect().request("GET", f"/v1/jobs/{args.job_id}/result")
    summary = result["summary"]
    if args.download and result.get("download_url"):
        with (
            httpx.stream("GET", result["download_url"], timeout=60) as response,
            Path(args.download).open("wb") as out,
        ):
            if response.status_code != 200:
                raise CliError(f"download failed: HTTP {response.status_code}", 3)
            for chunk in response.iter_bytes():
                out.write(chunk)
    levels = ", ".join(f"{level} {count}" for level, count in summary.get("levels", {}).items())
    human = (
        f"format {summary.get('format')} ({summary.get('compression')}), "
        f"{summary.get('lines')} lines: {summary.get('parsed_lines')} parsed, "
        f"{summary.get('unparsed_lines')} unparsed\nlevels: {levels}\n"
        f"from {summary.get('first_timestamp')} to {summary.get('last_timestamp')}"
    )
    for sample in summary.get("samples", []):
        human += f"\n  line {sample['line']}: {sample['text'][:160]}"
    if args.download:
        human += f"\nnormalised records saved to {args.download}"
    emit(args, result, human)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ingestctl", description="Upload log files and follow their jobs."
    )
    parser.add_argument("--version", action="version", version=f"ingestctl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--json", action="store_true", help="print JSON for scripts")
        sub.set_defaults(handler=handler)
        return sub

    login = command("login", cmd_login, "log in and keep the token")
    login.add_argument("--url", required=True, help="the API's address, e.g. http://127.0.0.1:8000")
    login.add_argument("--username", required=True)
    upload = command("upload", cmd_upload, "upload a file and queue its job")
    upload.add_argument("file")
    upload.add_argument("--content-type", help="default: guessed from the file name")
    upload.add_argument("--label", action="append", default=[], metavar="KEY=VALUE")
    upload.add_argument("--idempotency-key", help="retrying with the same key makes no second job")
    upload.add_argument("--wait", action="store_true", help="wait until the job ends")
    upload.add_argument(
        "--concurrency", type=int, default=4, help="parts sent at once (large files), default 4"
    )
    upload.add_argument("--timeout", type=float, default=600)
    wait = command("wait", cmd_wait, "wait until a job ends, showing its status")
    wait.add_argument("job_id")
    wait.add_argument("--timeout", type=float, default=600)
    show = command("show", cmd_show, "a job and its history")
    show.add_argument("job_id")
    listing = command("list", cmd_list, "your jobs, newest first")
    listing.add_argument(
        "--status", choices=["created", "queued", "processing", "completed", "failed", "cancelled"]
    )
    listing.add_argument("--limit", type=int, default=20)
    result = command("result", cmd_result, "a completed job's summary")
    result.add_argument("job_id")
    result.add_argument(
        "--download", metavar="PATH", help="save the normalised records (gzip NDJSON)"
    )
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    for label in getattr(args, "label", []):
        if "=" not in label:
            sys.exit(f"ingestctl: --label takes KEY=VALUE, not {label!r}")
    try:
        args.handler(args)
    except CliError as error:
        print(f"ingestctl: {error}", file=sys.stderr)
        sys.exit(error.exit_code)

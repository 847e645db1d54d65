"""Benchmark of tracing's cost in the API: the same `ingest-api` on the local
stack with tracing off, then on (every request sampled, spans batched and
sent over OTLP/HTTP to a local sink that answers 200), then on with one trace
in ten sampled, in the same run. Prints requests per second, p50/p99 and the
API's CPU time per request for a job read and a job creation, and each as a
ratio to tracing off.

    uv run python bench/tracing_overhead.py [--seconds 10] [--connections 16]

Needs the local stack (`hack/stack.sh up postgres redis minio`) and wrk. The
CPU time per request is the steadier figure on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from api_load import (  # noqa: E402
    BODY,
    CREATE_SCRIPT,
    READ_SCRIPT,
    Result,
    admin_token_and_job,
    api_env,
    measure,
)
from tests.support.processes import api_server  # noqa: E402


class Sink(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver that keeps nothing: what the exporter pays, no more."""

    exports = 0
    received_bytes = 0

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        self.rfile.read(length)
        type(self).exports += 1
        type(self).received_bytes += length
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def run_variant(env: dict[str, str], seconds: int, connections: int) -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp, api_server(env, Path(tmp) / "api.log") as server:
        token, job = admin_token_and_job(server.url)
        pid = server.process.pid
        return [
            measure(
                "GET /v1/jobs/{id}",
                f"{server.url}/v1/jobs/{job['id']}",
                READ_SCRIPT.format(token=token),
                seconds,
                connections,
                pid,
            ),
            measure(
                "POST /v1/jobs",
                f"{server.url}/v1/jobs",
                CREATE_SCRIPT.format(body=json.dumps(BODY), token=token),
                seconds,
                connections,
                pid,
            ),
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()

    sink = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    exporting = {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{sink.server_address[1]}",
    }
    variants = {
        "off": api_env(),
        "all": api_env(**exporting, OTEL_TRACES_SAMPLER="always_on"),
        "10%": api_env(
            **exporting,
            OTEL_TRACES_SAMPLER="parentbased_traceidratio",
            OTEL_TRACES_SAMPLER_ARG="0.1",
        ),
    }
    results = {
        label: run_variant(env, args.seconds, args.connections) for label, env in variants.items()
    }
    sink.shutdown()

    header = f"{'request':20} {'traced':7} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7}"
    print(f"{header} {'CPU us/req':>11}  vs off: req/s, p99, CPU")
    for index, baseline in enumerate(results["off"]):
        for label, measured in results.items():
            result = measured[index]
            print(
                f"{result.name:20} {label:7} {result.rps:8.1f} {result.p50_ms:7.2f}"
                f" {result.p99_ms:7.2f} {result.cpu_us:11.0f}"
                f"  {result.rps / baseline.rps:5.2f}x {result.p99_ms / baseline.p99_ms:5.2f}x"
                f" {result.cpu_us / baseline.cpu_us:5.2f}x"
            )
    print(f"spans exported: {Sink.exports} OTLP requests, {Sink.received_bytes} bytes")


if __name__ == "__main__":
    main()

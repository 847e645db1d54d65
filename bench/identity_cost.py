"""Benchmark: what each kind of credential costs the API, per request.

The same job read (GET /v1/jobs/{id}) is measured with wrk against a real
`ingest-api` process on the local stack, in one run, with:

- the service's own access token, the same one every time (verified once,
  then remembered), and a new token on every request (HMAC each time);
- an OIDC provider's access token (a local provider: an RSA key and its
  JWKS), the same one every time, and a new one on every request (an RSA
  signature check each time, in a worker thread);
- an API key (a database read on every request: revocation is immediate).

It prints requests per second, latency, and the API process's CPU
microseconds per request (from /proc), each against the own token's.

    uv run python bench/identity_cost.py [--seconds 8] [--connections 16]

Needs the local stack and wrk, as bench/api_load.py does.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jwt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api_load import ADMIN, BODY, api_env, measure, print_report  # noqa: E402
from tests.support.identity_provider import identity_provider, oidc_settings  # noqa: E402
from tests.support.processes import api_server  # noqa: E402

SECRET = "benchmark-secret-key-of-more-than-32-bytes"  # as api_env sets it
# More distinct tokens than the API remembers (4096), taken in turn: each
# request brings one the API has not verified lately.
DISTINCT_TOKENS = 10_000

ONE_TOKEN = """
wrk.headers["Authorization"] = "Bearer {token}"
"""
# Each wrk thread takes every other token of the file, so the two threads
# never send the same one close together.
MANY_TOKENS = """
local tokens = {{}}
for line in io.lines("{path}") do tokens[#tokens + 1] = line end
local threads = 0
setup = function(thread)
  thread:set("id", threads)
  threads = threads + 1
end
local n = 0
request = function()
  n = n + 1
  local token = tokens[((n * 2 + id) % #tokens) + 1]
  return wrk.format("GET", nil, {{["Authorization"] = "Bearer " .. token}})
end
"""


def own_tokens(user_id: str, count: int) -> list[str]:
    """Access tokens as the API signs them (same key, issuer and claims)."""
    now = datetime.now(UTC)
    return [
        jwt.encode(
            {
                "sub": user_id,
                "type": "access",
                "jti": str(uuid.uuid4()),
                "iat": now,
                "exp": now + timedelta(minutes=15),
                "iss": "ingest-api",
                "aud": "ingest-clients",
            },
            SECRET,
            algorithm="HS256",
        )
        for _ in range(count)
    ]


def token_file(directory: Path, name: str, tokens: list[str]) -> Path:
    path = directory / f"{name}.txt"
    path.write_text("\n".join(tokens) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")

    with identity_provider() as idp, tempfile.TemporaryDirectory() as tmp:
        env = api_env(OIDC_ISSUERS=json.dumps([oidc_settings(idp)]))
        directory = Path(tmp)
        with api_server(env, directory / "api.log") as server:
            api = httpx.Client(base_url=server.url, timeout=30)
            login = api.post("/v1/auth/token", data={"username": ADMIN[0], "password": ADMIN[1]})
            session = login.json()["access_token"]
            admin_id = api.get("/v1/users/me", headers={"Authorization": f"Bearer {session}"})
            oidc = idp.token("bench", groups=["ingest-admins"], lifetime=3600)
            key = api.post(
                "/v1/api-keys",
                json={"name": "bench", "scopes": ["jobs:read", "jobs:write"]},
                headers={"Authorization": f"Bearer {session}"},
            ).json()["key"]
            job = api.post(
                "/v1/jobs", json=BODY, headers={"Authorization": f"Bearer {oidc}"}
            ).json()
            started = time.monotonic()
            own_many = token_file(
                directory, "own", own_tokens(admin_id.json()["id"], DISTINCT_TOKENS)
            )
            oidc_many = token_file(
                directory,
                "oidc",
                [
                    idp.token("bench", groups=["ingest-admins"], lifetime=3600)
                    for _ in range(DISTINCT_TOKENS)
                ],
            )
            print(f"minted {2 * DISTINCT_TOKENS} tokens in {time.monotonic() - started:.1f} s")
            url = f"{server.url}/v1/jobs/{job['id']}"
            cases = [
                ("own token, remembered", ONE_TOKEN.format(token=session)),
                ("own token, new each request", MANY_TOKENS.format(path=own_many)),
                ("OIDC token, remembered", ONE_TOKEN.format(token=oidc)),
                ("OIDC token, new each request", MANY_TOKENS.format(path=oidc_many)),
                ("API key (a read each request)", ONE_TOKEN.format(token=key)),
            ]
            pid = server.process.pid
            results = [
                measure(name, url, script, args.seconds, args.connections, pid)
                for name, script in cases
            ]
    print("GET /v1/jobs/{id}, by credential; 'vs baseline' against the own token, remembered")
    print_report(results)


if __name__ == "__main__":
    main()

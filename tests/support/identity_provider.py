"""A local OpenID Connect provider for the tests: a real RSA key, its JWKS
and discovery document served over HTTP on 127.0.0.1, and tokens signed
with it (or, for the attacks, with anything else).

No IdP runs here without a container engine (see the identity note), and
an IdP's part in verifying an access token is exactly this: publish keys,
sign tokens. Login flows are the IdP's business, not the service's.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

AUDIENCE = "ingest-api"


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


@dataclass
class LocalIdentityProvider:
    """Serves `/.well-known/openid-configuration` and `/jwks`; signs tokens."""

    port: int = 0
    key: rsa.RSAPrivateKey = field(default_factory=new_rsa_key)
    kid: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    published: list[dict[str, Any]] = field(default_factory=list)
    jwks_fetches: int = 0

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def token(
        self,
        sub: str = "alice",
        *,
        groups: list[str] | None = None,
        lifetime: int = 300,
        key: Any = None,
        algorithm: str = "RS256",
        headers: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
        **claims: Any,
    ) -> str:
        """An access token as this provider issues it; every part can be
        overridden, to make the tokens an attacker would."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.issuer,
            "sub": sub,
            "aud": AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
            "groups": groups if groups is not None else ["ingest-uploaders"],
            **claims,
        }
        for name in drop:
            payload.pop(name, None)
        header = {"kid": self.kid, **(headers or {})}
        return jwt.encode(
            payload, self.key if key is None else key, algorithm=algorithm, headers=header
        )

    def rotate(self) -> None:
        """Sign with a new key from now on; publish both."""
        self.published.append(public_jwk(self.key, self.kid))
        self.key, self.kid = new_rsa_key(), uuid.uuid4().hex[:12]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [*self.published, public_jwk(self.key, self.kid)]}


@contextmanager
def identity_provider() -> Iterator[LocalIdentityProvider]:
    provider = LocalIdentityProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/.well-known/openid-configuration":
                body = {"issuer": provider.issuer, "jwks_uri": f"{provider.issuer}/jwks"}
            elif self.path == "/jwks":
                provider.jwks_fetches += 1
                body = provider.jwks()
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()


def oidc_settings(provider: LocalIdentityProvider, **overrides: Any) -> dict[str, Any]:
    """The OIDC_ISSUERS entry that trusts `provider` (groups to roles)."""
    return {
        "name": "corp",
        "issuer": provider.issuer,
        "audience": AUDIENCE,
        "roles_claim": "groups",
        "roles": {
            "admin": ["ingest-admins"],
            "uploader": ["ingest-uploaders"],
            "viewer": ["ingest-viewers"],
        },
        **overrides,
    }

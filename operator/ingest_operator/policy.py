"""The production policy: what the operator refuses to roll out.

It mirrors the service's own start-up check (production_violations in
api/ingest_api/core/config.py), so a non-compliant spec is stopped here, with
a condition and an Event, instead of as a crash loop of pods that refuse to
start. CEL rejects at admission what the spec alone shows (CORS "*", debug);
they are checked again here because a resource admitted by an older CRD must
not slip through. Only this module judges Secret contents, which CEL cannot
read. Messages name Secrets and keys, never their values: they end up in the
status and in Events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ingest_operator.resolving import SecretValues
from ingest_operator.spec import IngestServiceSpec

# HS256 needs a key at least as long as its output (RFC 7518 section 3.2);
# the service refuses shorter ones in production too.
MIN_JWT_SECRET_BYTES: Final = 32
# As the service: "a" * 32 or "changeme" * 4 are long and still guessable.
MIN_JWT_SECRET_DISTINCT_CHARACTERS: Final = 10

# Keys people copy from examples. Compared after lower-casing and trimming;
# the first is the service's own development default, long enough to pass the
# length check, so only this list catches it.
WELL_KNOWN_JWT_SECRETS: Final[frozenset[str]] = frozenset(
    {
        "development-only-jwt-secret-change-me-in-production",
        "change-me",
        "changeme",
        "change_me",
        "changethis",
        "secret",
        "secret-key",
        "secretkey",
        "supersecret",
        "dev-secret",
        "jwt-secret",
        "your-secret-key",
        "your-256-bit-secret",
    }
)

# MinIO's out-of-the-box root credentials.
MINIO_DEFAULT_ACCESS_KEY: Final = "minioadmin"
MINIO_DEFAULT_SECRET_KEY: Final = "minioadmin"  # noqa: S105 - the default being refused

ANY_ORIGIN: Final = "*"


@dataclass(frozen=True)
class Violation:
    """One reason the resource may not run in production."""

    field: str
    message: str

    def describe(self) -> str:
        return f"{self.field}: {self.message}"


def evaluate_policy(
    spec: IngestServiceSpec, secrets: SecretValues | None
) -> list[Violation] | None:
    """Every production-policy violation: none outside production.

    None when it cannot tell: in production, with referenced Secrets that could
    not be read (`secrets` is None), the credentials cannot be judged.
    """
    if not spec.is_production:
        return []
    if secrets is None:
        return None
    return [
        *_jwt_secret_violations(spec, secrets.jwt_secret_key),
        *_s3_credentials_violations(spec, secrets),
        *_cors_violations(spec),
        *_debug_violations(spec),
        *_s3_endpoint_violations(spec),
        *_identity_provider_violations(spec),
    ]


def _jwt_secret_violations(spec: IngestServiceSpec, jwt_secret_key: str) -> list[Violation]:
    ref = spec.auth.jwt_secret_ref
    if ref is None:
        # The operator generated it, strong by construction; judged all the same.
        field, where = "spec.auth", "the generated JWT signing key"
    else:
        field = "spec.auth.jwtSecretRef"
        where = f"the JWT signing key in Secret {ref.name!r} (key {ref.key!r})"
    size = len(jwt_secret_key.encode())
    if size == 0:
        return [Violation(field, f"{where} is empty")]
    if jwt_secret_key.strip().lower() in WELL_KNOWN_JWT_SECRETS:
        return [Violation(field, f"{where} is a well-known default value")]
    if size < MIN_JWT_SECRET_BYTES:
        return [
            Violation(
                field,
                f"{where} is {size} bytes long; production needs at least "
                f"{MIN_JWT_SECRET_BYTES} random bytes",
            )
        ]
    if len(set(jwt_secret_key)) < MIN_JWT_SECRET_DISTINCT_CHARACTERS:
        return [
            Violation(
                field,
                f"{where} has fewer than {MIN_JWT_SECRET_DISTINCT_CHARACTERS} distinct "
                "characters: it is not random",
            )
        ]
    return []


def _s3_credentials_violations(spec: IngestServiceSpec, secrets: SecretValues) -> list[Violation]:
    ref = spec.s3.credentials_secret_ref
    field = "spec.s3.credentialsSecretRef"
    violations = []
    if secrets.s3_access_key == MINIO_DEFAULT_ACCESS_KEY:
        violations.append(
            Violation(
                field,
                f"the S3 access key in Secret {ref.name!r} (key {ref.access_key_key!r}) "
                "is MinIO's default",
            )
        )
    if secrets.s3_secret_key == MINIO_DEFAULT_SECRET_KEY:
        violations.append(
            Violation(
                field,
                f"the S3 secret key in Secret {ref.name!r} (key {ref.secret_key_key!r}) "
                "is MinIO's default",
            )
        )
    return violations


def _cors_violations(spec: IngestServiceSpec) -> list[Violation]:
    violations = []
    if ANY_ORIGIN in spec.cors_origins:
        violations.append(Violation("spec.cors.origins", 'allows every origin ("*")'))
    unsafe = [o for o in spec.cors_origins if o == "null" or o.startswith("http://")]
    if unsafe:
        violations.append(
            Violation(
                "spec.cors.origins",
                f"allows origins a page can fake or read in clear ({', '.join(unsafe)}): "
                "use https:// origins",
            )
        )
    return violations


def _debug_violations(spec: IngestServiceSpec) -> list[Violation]:
    if spec.debug:
        return [Violation("spec.debug", "must be false in production")]
    return []


def _s3_endpoint_violations(spec: IngestServiceSpec) -> list[Violation]:
    if spec.s3.endpoint.lower().startswith("http://") and not spec.s3.allow_plain_http:
        return [
            Violation(
                "spec.s3.endpoint",
                "uses plain HTTP; set spec.s3.allowPlainHttp only for an endpoint inside "
                "the cluster",
            )
        ]
    return []


def _identity_provider_violations(spec: IngestServiceSpec) -> list[Violation]:
    """An identity provider reached over plain HTTP: its keys could be
    swapped on the way, and then anyone signs tokens the API believes."""
    violations = []
    for index, provider in enumerate(spec.auth.oidc):
        for field, url in (("issuer", provider.issuer), ("jwksUri", provider.jwks_uri or "")):
            if url.lower().startswith("http://"):
                violations.append(
                    Violation(f"spec.auth.oidc[{index}].{field}", "uses plain HTTP; use https://")
                )
    return violations

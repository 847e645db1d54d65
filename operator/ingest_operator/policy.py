"""The production policy: what the operator refuses to roll out.

It applies the rules of the service's own start-up check (ingest_policy, which
api/ingest_api/core/config.py uses too), so a non-compliant spec is stopped here, with
a condition and an Event, instead of as a crash loop of pods that refuse to
start. CEL rejects at admission what the spec alone shows (CORS "*", debug);
they are checked again here because a resource admitted by an older CRD must
not slip through. Only this module judges Secret contents, which CEL cannot
read. Messages name Secrets and keys, never their values: they end up in the
status and in Events.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest_operator.resolving import SecretValues
from ingest_operator.spec import IngestServiceSpec
from ingest_policy import rules


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
    problem = rules.jwt_key_problem(jwt_secret_key)
    if problem is None:
        return []
    if problem is rules.JwtKeyProblem.SHORT:
        size = len(jwt_secret_key.encode())
        return [
            Violation(
                field,
                f"{where} is {size} bytes long; production needs at least "
                f"{rules.MIN_JWT_SECRET_BYTES} random bytes",
            )
        ]
    return [Violation(field, f"{where} {problem}")]


def _s3_credentials_violations(spec: IngestServiceSpec, secrets: SecretValues) -> list[Violation]:
    ref = spec.s3.credentials_secret_ref
    field = "spec.s3.credentialsSecretRef"
    violations = []
    if rules.is_minio_default_key(secrets.s3_access_key):
        violations.append(
            Violation(
                field,
                f"the S3 access key in Secret {ref.name!r} (key {ref.access_key_key!r}) "
                "is MinIO's default",
            )
        )
    if rules.is_minio_default_key(secrets.s3_secret_key):
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
    if rules.ANY_ORIGIN in spec.cors_origins:
        violations.append(Violation("spec.cors.origins", 'allows every origin ("*")'))
    unsafe = rules.unsafe_origins(spec.cors_origins)
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
    if rules.is_plain_http(spec.s3.endpoint) and not spec.s3.allow_plain_http:
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
            if rules.is_plain_http(url):
                violations.append(
                    Violation(f"spec.auth.oidc[{index}].{field}", "uses plain HTTP; use https://")
                )
    return violations

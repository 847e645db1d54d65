"""What production refuses, as pure judgements of values (see the package's docstring)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Final

# HS256 needs a key at least as long as its output (RFC 7518 section 3.2).
MIN_JWT_SECRET_BYTES: Final = 32
# "a" * 32 or "changeme" * 4 are long enough and still guessable; a random
# key of 32 bytes or more, hex or base64, holds far more distinct characters.
MIN_JWT_SECRET_DISTINCT_CHARACTERS: Final = 10
# The service's development default: long enough for the length rule, so
# only the list below catches it.
DEVELOPMENT_JWT_SECRET: Final = "development-only-jwt-secret-change-me-in-production"  # noqa: S105 - the placeholder production refuses
# Keys people copy from examples, compared after lower-casing and trimming.
WELL_KNOWN_JWT_SECRETS: Final[frozenset[str]] = frozenset(
    {
        DEVELOPMENT_JWT_SECRET,
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
# MinIO's out-of-the-box root credentials (both the access and the secret key).
MINIO_DEFAULT_KEY: Final = "minioadmin"
ANY_ORIGIN: Final = "*"


class JwtKeyProblem(StrEnum):
    """Why a key is no key to sign production tokens with."""

    EMPTY = "is empty"
    WELL_KNOWN = "is a well-known default value"
    SHORT = f"is shorter than {MIN_JWT_SECRET_BYTES} bytes"
    NOT_RANDOM = (
        f"has fewer than {MIN_JWT_SECRET_DISTINCT_CHARACTERS} distinct characters: it is not random"
    )


def jwt_key_problem(key: str) -> JwtKeyProblem | None:
    """The first reason `key` may not sign production tokens, or None."""
    if not key:
        return JwtKeyProblem.EMPTY
    if key.strip().lower() in WELL_KNOWN_JWT_SECRETS:
        return JwtKeyProblem.WELL_KNOWN
    if len(key.encode()) < MIN_JWT_SECRET_BYTES:
        return JwtKeyProblem.SHORT
    if len(set(key)) < MIN_JWT_SECRET_DISTINCT_CHARACTERS:
        return JwtKeyProblem.NOT_RANDOM
    return None


def is_minio_default_key(key: str) -> bool:
    return key == MINIO_DEFAULT_KEY


def unsafe_origins(origins: Iterable[str]) -> list[str]:
    """CORS origins a page can fake ("null") or read in clear (http://)."""
    return [origin for origin in origins if origin == "null" or origin.startswith("http://")]


def is_plain_http(url: str) -> bool:
    """A URL whose traffic (keys, files, tokens) travels in clear."""
    return url.lower().startswith("http://")

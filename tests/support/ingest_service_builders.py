"""Builders of IngestService specs and of the Secrets they reference, for every suite.

The values are distinctive on purpose: a test can search a rendered object
for them and be sure a match is a leak, not a coincidence.
"""

from __future__ import annotations

import copy
from typing import Any

IMAGE = "registry.example.com/ingest-api:1.4.2"

DB_SECRET = "ingest-db"
REDIS_SECRET = "ingest-redis"
S3_SECRET = "ingest-s3"
JWT_SECRET = "ingest-jwt"
ADMIN_SECRET = "ingest-admin"

DATABASE_URL_VALUE = "postgresql://ingest:db-password-7f3a91@db.internal:5432/ingest"
REDIS_URL_VALUE = "redis://:redis-password-c41e07@redis.internal:6379/0"
S3_ACCESS_KEY_VALUE = "s3-access-key-5be2d8"
S3_SECRET_KEY_VALUE = "s3-secret-key-0d94aa6c"
STRONG_JWT_VALUE = "jwt-signing-key-2b7e151628aed2a6abf7158809cf4f3c"
GENERATED_JWT_VALUE = "generated-jwt-key-3243f6a8885a308d313198a2e0370734"
ADMIN_USERNAME_VALUE = "first-admin-8e1f"
ADMIN_PASSWORD_VALUE = "admin-password-93c2b5"

# Every credential above: none may appear in a pod spec.
SECRET_VALUES = (
    DATABASE_URL_VALUE,
    REDIS_URL_VALUE,
    S3_ACCESS_KEY_VALUE,
    S3_SECRET_KEY_VALUE,
    STRONG_JWT_VALUE,
    GENERATED_JWT_VALUE,
    ADMIN_USERNAME_VALUE,
    ADMIN_PASSWORD_VALUE,
)


def minimal_spec() -> dict[str, Any]:
    """Only the fields the CRD requires."""
    return {
        "image": IMAGE,
        "postgres": {"urlSecretRef": {"name": DB_SECRET}},
        "redis": {"urlSecretRef": {"name": REDIS_SECRET}},
        "s3": {
            "endpoint": "https://s3.example.com",
            "bucket": "ingest-logs",
            "credentialsSecretRef": {"name": S3_SECRET},
        },
    }


def spec_with_every_reference() -> dict[str, Any]:
    """The minimal spec plus every optional object, each with its required fields only."""
    spec = minimal_spec()
    spec["auth"] = {
        "jwtSecretRef": {"name": JWT_SECRET},
        "bootstrapAdminSecretRef": {"name": ADMIN_SECRET},
    }
    return spec


def production_spec(**overrides: Any) -> dict[str, Any]:
    """A spec that passes the production policy with `referenced_secrets()`."""
    spec = spec_with_every_reference()
    spec["environment"] = "production"
    spec["cors"] = {"origins": ["https://app.example.com"]}
    spec.update(copy.deepcopy(overrides))
    return spec


def referenced_secrets() -> dict[str, dict[str, str]]:
    """Decoded data of every Secret the specs above reference, under the default keys."""
    return {
        DB_SECRET: {"url": DATABASE_URL_VALUE},
        REDIS_SECRET: {"url": REDIS_URL_VALUE},
        S3_SECRET: {"accessKey": S3_ACCESS_KEY_VALUE, "secretKey": S3_SECRET_KEY_VALUE},
        JWT_SECRET: {"jwtSecretKey": STRONG_JWT_VALUE},
        ADMIN_SECRET: {"username": ADMIN_USERNAME_VALUE, "password": ADMIN_PASSWORD_VALUE},
    }

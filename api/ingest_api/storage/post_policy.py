"""Presigned POST policies, signed with AWS Signature Version 4 (pure: no I/O).

The form a browser or client posts straight to S3 or MinIO: the policy lists
what storage must enforce (bucket, key, exact size, content type, metadata),
and its signature proves the service issued it. boto3 builds the same form,
but through its endpoint resolver and request-signer machinery, at about
150 us a call; this is on every job creation, so it is done here, the way
the S3 documentation spells it ("Browser-based uploads using POST").
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

ALGORITHM: Final = "AWS4-HMAC-SHA256"
SERVICE: Final = "s3"


@dataclass(frozen=True)
class SigningCredentials:
    access_key: str
    secret_key: str
    region: str


@lru_cache(maxsize=8)
def signing_key(secret_key: str, day: str, region: str) -> bytes:
    """The day's derived key: HMAC chained over the date, region, service and
    terminator. Cached: it changes once a day."""
    key = ("AWS4" + secret_key).encode()
    for part in (day, region, SERVICE, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def sign_policy(credentials: SigningCredentials, *, policy: str, day: str) -> str:
    """The hex signature of a base64 policy, for the given day (YYYYMMDD)."""
    key = signing_key(credentials.secret_key, day, credentials.region)
    return hmac.new(key, policy.encode(), hashlib.sha256).hexdigest()


def post_policy_fields(
    credentials: SigningCredentials,
    *,
    bucket: str,
    key: str,
    fields: dict[str, str],
    conditions: list[Any],
    issued: datetime,
    expires_at: datetime,
) -> dict[str, str]:
    """The form fields of a presigned POST of `key` into `bucket`: `fields`,
    and a policy holding `conditions` plus the bucket, key and credentials,
    signed. `issued` and `expires_at` are UTC."""
    day = issued.strftime("%Y%m%d")
    signed = {
        "x-amz-algorithm": ALGORITHM,
        "x-amz-credential": "/".join(
            (credentials.access_key, day, credentials.region, SERVICE, "aws4_request")
        ),
        "x-amz-date": issued.strftime("%Y%m%dT%H%M%SZ"),
    }
    document = {
        "expiration": expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "conditions": [
            *conditions,
            {"bucket": bucket},
            {"key": key},
            *({name: value} for name, value in signed.items()),
        ],
    }
    policy = base64.b64encode(json.dumps(document).encode()).decode()
    return {
        **fields,
        "key": key,
        **signed,
        "policy": policy,
        "x-amz-signature": sign_policy(credentials, policy=policy, day=day),
    }

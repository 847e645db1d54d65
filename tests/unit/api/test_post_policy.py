"""The presigned POST form we sign ourselves, checked against boto3's own
(that MinIO accepts it, and enforces it, is tested against the real MinIO)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config

from ingest_api.storage.post_policy import SigningCredentials, post_policy_fields, sign_policy

CREDENTIALS = SigningCredentials(
    access_key="AKIDEXAMPLE", secret_key="wJalrXUtnFEMI/K7MDENG", region="eu-west-1"
)
FIELDS = {"Content-Type": "text/plain", "x-amz-meta-job-id": "42"}
CONDITIONS: list[Any] = [
    {"Content-Type": "text/plain"},
    ["content-length-range", 1024, 1024],
    {"x-amz-meta-job-id": "42"},
]


def boto3_post() -> dict[str, Any]:
    client = boto3.client(
        "s3",
        endpoint_url="http://storage.example:9000",
        region_name=CREDENTIALS.region,
        aws_access_key_id=CREDENTIALS.access_key,
        aws_secret_access_key=CREDENTIALS.secret_key,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    return client.generate_presigned_post(
        Bucket="logs",
        Key="uploads/42",
        Fields=dict(FIELDS),
        Conditions=list(CONDITIONS),
        ExpiresIn=900,
    )


def decoded(policy: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(base64.b64decode(policy))
    return document


def test_the_form_matches_the_one_boto3_signs() -> None:
    theirs = boto3_post()
    their_policy = decoded(theirs["fields"]["policy"])
    issued = datetime.strptime(theirs["fields"]["x-amz-date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    expires_at = datetime.strptime(their_policy["expiration"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=UTC
    )

    ours = post_policy_fields(
        CREDENTIALS,
        bucket="logs",
        key="uploads/42",
        fields=dict(FIELDS),
        conditions=list(CONDITIONS),
        issued=issued,
        expires_at=expires_at,
    )

    assert theirs["url"] == "http://storage.example:9000/logs"
    assert set(ours) == set(theirs["fields"])
    for name in set(ours) - {"policy", "x-amz-signature"}:
        assert ours[name] == theirs["fields"][name], name
    assert decoded(ours["policy"])["expiration"] == their_policy["expiration"]
    assert sorted(map(json.dumps, decoded(ours["policy"])["conditions"])) == sorted(
        map(json.dumps, their_policy["conditions"])
    )


def test_the_signature_is_the_one_boto3_computes_for_the_same_policy() -> None:
    theirs = boto3_post()["fields"]
    day = theirs["x-amz-date"][:8]
    assert sign_policy(CREDENTIALS, policy=theirs["policy"], day=day) == theirs["x-amz-signature"]


def test_another_secret_gives_another_signature() -> None:
    other = SigningCredentials(
        CREDENTIALS.access_key, CREDENTIALS.secret_key + "x", CREDENTIALS.region
    )
    policy = base64.b64encode(b'{"expiration": "2030-01-01T00:00:00Z", "conditions": []}').decode()
    assert sign_policy(other, policy=policy, day="20300101") != sign_policy(
        CREDENTIALS, policy=policy, day="20300101"
    )

"""The local MinIO is a real S3 server that enforces presigned POST policies."""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def presigned_text_upload(s3_client: S3Client, bucket: str, key: str, max_bytes: int) -> Any:
    """A presigned POST for a text/plain object of at most max_bytes."""
    return s3_client.generate_presigned_post(
        Bucket=bucket,
        Key=key,
        Fields={"Content-Type": "text/plain"},
        Conditions=[{"Content-Type": "text/plain"}, ["content-length-range", 1, max_bytes]],
        ExpiresIn=300,
    )


def post_file(upload: Any, body: bytes, content_type: str = "text/plain") -> httpx.Response:
    # A plain HTTP client, as an application would use: nothing of boto3.
    fields = dict(upload["fields"])
    fields["Content-Type"] = content_type
    return httpx.post(upload["url"], data=fields, files={"file": ("app.log", body, content_type)})


def test_presigned_post_upload_comes_back_intact(s3_client: S3Client, s3_bucket: str) -> None:
    body = os.urandom(64 * 1024)
    upload = presigned_text_upload(s3_client, s3_bucket, "uploads/app.log", max_bytes=len(body))

    response = post_file(upload, body)

    assert response.status_code == 204, response.text
    stored = s3_client.get_object(Bucket=s3_bucket, Key="uploads/app.log")
    assert stored["ContentType"] == "text/plain"
    assert hashlib.sha256(stored["Body"].read()).digest() == hashlib.sha256(body).digest()


def test_minio_refuses_a_body_larger_than_the_policy_allows(
    s3_client: S3Client, s3_bucket: str
) -> None:
    upload = presigned_text_upload(s3_client, s3_bucket, "uploads/big.log", max_bytes=1024)

    response = post_file(upload, b"x" * 1025)

    assert response.status_code == 400
    assert "EntityTooLarge" in response.text
    listing = s3_client.list_objects_v2(Bucket=s3_bucket)
    assert listing.get("KeyCount") == 0


def test_minio_refuses_a_content_type_outside_the_policy(
    s3_client: S3Client, s3_bucket: str
) -> None:
    upload = presigned_text_upload(s3_client, s3_bucket, "uploads/app.log", max_bytes=1024)

    response = post_file(upload, b"hello", content_type="application/x-sh")

    assert response.status_code == 403
    assert "AccessDenied" in response.text

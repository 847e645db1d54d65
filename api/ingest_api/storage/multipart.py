"""Multipart uploads, both ways: clients' uploads of large files in parts
(started, presigned part by part, listed, completed, aborted by the API),
and the worker's output, streamed into one object a part at a time.

Part URLs are presigned UploadPart requests signed with the part's exact
Content-Length (and, when the client gives it, the part's SHA-256 as the
`x-amz-checksum-sha256` header): storage refuses other sizes and bytes.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ingest_api.storage.parts import StoredPart
from ingest_api.storage.service import ObjectStore, error_code

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# S3's answer for an upload id that was completed, aborted, or never was.
NO_SUCH_UPLOAD = "NoSuchUpload"


class PartUploads:
    """A client's upload of one object in parts, through the API."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    async def start(self, *, key: str, content_type: str, metadata: dict[str, str]) -> str:
        """A new multipart upload at `key`; its upload id."""
        answer = await self.store.call(
            lambda: self.store.client.create_multipart_upload(
                Bucket=self.store.bucket, Key=key, ContentType=content_type, Metadata=metadata
            )
        )
        upload_id: str = answer["UploadId"]
        return upload_id

    def presign_part(
        self,
        *,
        key: str,
        upload_id: str,
        number: int,
        length: int,
        ttl_seconds: int,
        sha256: str | None = None,
    ) -> tuple[str, dict[str, str]]:
        """A PUT URL for part `number` of exactly `length` bytes, and the
        headers the client must send with it (local: no network)."""
        params: dict[str, Any] = {
            "Bucket": self.store.bucket,
            "Key": key,
            "UploadId": upload_id,
            "PartNumber": number,
            "ContentLength": length,
        }
        headers = {"Content-Length": str(length)}
        if sha256:
            checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
            params["ChecksumSHA256"] = checksum
            headers["x-amz-checksum-sha256"] = checksum
        url = self.store.signer.generate_presigned_url(
            "upload_part", Params=params, ExpiresIn=ttl_seconds
        )
        return url, headers

    async def list_parts(self, *, key: str, upload_id: str) -> list[StoredPart] | None:
        """Every part storage holds, in order; None when the upload is gone
        (completed or aborted)."""

        def every_part() -> list[StoredPart] | None:
            pages = self.store.client.get_paginator("list_parts").paginate(
                Bucket=self.store.bucket, Key=key, UploadId=upload_id
            )
            try:
                return [
                    StoredPart(
                        number=part["PartNumber"],
                        size=part["Size"],
                        etag=part["ETag"],
                        sha256=part.get("ChecksumSHA256"),
                    )
                    for page in pages
                    for part in page.get("Parts", [])
                ]
            except ClientError as error:
                if error_code(error) == NO_SUCH_UPLOAD:
                    return None
                raise

        return await self.store.call(every_part)

    async def complete(self, *, key: str, upload_id: str, parts: list[StoredPart]) -> None:
        """Join the parts storage listed into the object."""
        listed: list[dict[str, Any]] = [
            {"PartNumber": part.number, "ETag": part.etag}
            | ({"ChecksumSHA256": part.sha256} if part.sha256 else {})
            for part in parts
        ]
        await self.store.call(
            lambda: self.store.client.complete_multipart_upload(
                Bucket=self.store.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": listed},  # type: ignore[typeddict-item]
            )
        )

    async def abort(self, *, key: str, upload_id: str) -> None:
        """Drop the upload and its parts; one already gone (aborted, completed,
        swept by the storage) is left as it is."""

        def abort_upload() -> None:
            try:
                self.store.client.abort_multipart_upload(
                    Bucket=self.store.bucket, Key=key, UploadId=upload_id
                )
            except ClientError as error:
                if error_code(error) != NO_SUCH_UPLOAD:
                    raise

        await self.store.call(abort_upload)


# S3 refuses parts under 5 MiB except the last; larger parts mean fewer calls.
MULTIPART_PART_BYTES = 16 * 1024 * 1024


class MultipartWriter:
    """Streams bytes into one object through a multipart upload, a part at a
    time, so the output of a large file never sits whole in memory. Blocking:
    the worker drives it from the thread that processes the file."""

    def __init__(self, client: S3Client, bucket: str, key: str, content_type: str) -> None:
        self.client, self.bucket, self.key = client, bucket, key
        self.upload_id = client.create_multipart_upload(
            Bucket=bucket, Key=key, ContentType=content_type
        )["UploadId"]
        self.parts: list[dict[str, Any]] = []
        self.buffer = bytearray()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.buffer += data
        self.size += len(data)
        if len(self.buffer) >= MULTIPART_PART_BYTES:
            self._upload_part()

    def _upload_part(self) -> None:
        number = len(self.parts) + 1
        answer = self.client.upload_part(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=bytes(self.buffer),
        )
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        self.buffer.clear()

    def complete(self) -> int:
        """Finish the object; return its size in bytes."""
        if self.buffer or not self.parts:
            self._upload_part()
        self.client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},  # type: ignore[typeddict-item]
        )
        return self.size

    def abort(self) -> None:
        """Drop the parts uploaded so far (the bucket keeps nothing)."""
        self.client.abort_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id
        )

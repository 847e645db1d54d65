"""Object storage (S3 or MinIO): presigned uploads and downloads, object checks."""

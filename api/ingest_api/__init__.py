"""The ingest service: the HTTP API, the queue worker and their commands.

Clients upload log files straight to S3/MinIO through presigned requests and
follow each file's job from `created` to `completed` or `failed`; workers fed
by a Redis Stream process the files. PostgreSQL holds users, jobs and their
history.
"""

__version__ = "0.1.0"

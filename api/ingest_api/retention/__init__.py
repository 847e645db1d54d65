"""Retention: what is kept how long, and `ingest-admin purge`, which deletes
the rest (`policy` decides, pure; `purge` acts)."""

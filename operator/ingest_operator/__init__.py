"""The IngestService operator: turns an IngestService resource into a running,
policy-checked ingest stack (Secrets, ConfigMaps, Deployments, Services)."""

__version__ = "0.1.0"

"""The production policy's rules, one copy for the two places that enforce them.

The API refuses to start in production with settings these rules reject
(ingest_api.core.config.production_violations); the operator refuses to roll
out an IngestService whose spec or Secrets they reject, before any pod starts
(ingest_operator.policy). Both call the functions here and phrase the verdict
for their own readers: an environment variable, or a field of the spec.
"""

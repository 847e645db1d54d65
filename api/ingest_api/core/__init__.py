"""Cross-cutting plumbing: settings, database, logging, metrics, errors. No HTTP."""

"""The job queue: a transactional outbox in PostgreSQL relayed to a Redis Stream."""

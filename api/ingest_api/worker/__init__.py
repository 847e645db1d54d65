"""The queue worker (`ingest-worker`): takes jobs from the Redis Stream and
turns each uploaded log file into a result. See `consuming` for the delivery
rules, `health` for its HTTP side, `main` for the command."""

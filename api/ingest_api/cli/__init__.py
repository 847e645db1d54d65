"""`ingestctl`: the command-line client for application developers."""

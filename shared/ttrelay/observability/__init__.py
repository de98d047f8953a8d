"""The one Logger and Metrics of a function (`telemetry`), per-pixel metric blobs and tallies, match-key
coverage, and the stack status the CLI reads."""

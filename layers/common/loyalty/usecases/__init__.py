"""Use cases: read, decide with the pure domain, commit one write; retried on contention."""

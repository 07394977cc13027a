"""Anchoring: a digest of every chain head, published where no function can change it (docs/anchoring.md)."""

"""Redemptions: a member spends available points, exactly once per Idempotency-Key."""

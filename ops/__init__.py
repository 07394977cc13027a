"""Operators' tools. Never deployed with the functions; run from a checkout (``make verify``)."""

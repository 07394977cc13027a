"""The reliability suite of issue 4: model equality, tampering, and who may do what."""

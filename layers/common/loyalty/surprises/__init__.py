"""Provably fair surprise points on purchases (docs/earning-surprise.md)."""

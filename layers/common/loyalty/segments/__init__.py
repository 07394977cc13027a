"""Segments: every member classed A–D by their 12-month spend rank and graded 1–3 by how recently they bought
(docs/segments.md)."""

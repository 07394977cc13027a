"""Importing a shop's existing customers and their purchases from CSV, and exporting (docs/import-export.md)."""

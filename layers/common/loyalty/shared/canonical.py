"""Deterministic JSON: the bytes hashes and request fingerprints are computed over."""

from __future__ import annotations

import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8 with non-ASCII characters unescaped (docs/ledger.md, "The hash")."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

"""The bytes entry hashes and request fingerprints are computed over, written out by hand from docs/ledger.md
("The hash"): keys sorted, no whitespace, UTF-8 with non-ASCII characters unescaped."""

from __future__ import annotations

import hashlib

from loyalty.ledger.assets import Bucket, EntryKind
from loyalty.ledger.entries import Entry, Source
from loyalty.shared.canonical import canonical_json


def test_canonical_json_is_the_documented_bytes() -> None:
    value = {"source": {"type": "purchase", "id": "O-1"}, "amount": -5, "level": None, "name": "李雷 Café"}
    expected = '{"amount":-5,"level":null,"name":"李雷 Café","source":{"id":"O-1","type":"purchase"}}'
    assert canonical_json(value) == expected.encode("utf-8")


def test_an_entry_with_non_ascii_text_hashes_its_unescaped_utf8() -> None:
    """No entry field the API accepts today can hold non-ASCII text (ids are ASCII by pattern), so only this test
    sees the difference; a verifier following docs/ledger.md would compute this hash."""
    entry = Entry(holder="李雷", entry_id="adjustment/A-1/李雷", seq=1, asset="points", amount=5,
                  bucket=Bucket.AVAILABLE, kind=EntryKind.ADJUSTMENT, level=None,
                  source=Source("adjustment", "A-1"), rule_version=None, created_at="2026-11-23T09:30:00Z",
                  available_at=None, prev_hash="0" * 64)
    canonical = ('{"amount":5,"asset":"points","available_at":null,"bucket":"available","created_at":'
                 '"2026-11-23T09:30:00Z","entry_id":"adjustment/A-1/李雷","kind":"adjustment","level":null,'
                 '"member_id":"李雷","prev_hash":"' + "0" * 64 + '","rule_version":null,"seq":1,'
                 '"source":{"id":"A-1","type":"adjustment"}}')
    assert entry.sealed().hash == hashlib.sha256(canonical.encode("utf-8")).hexdigest()

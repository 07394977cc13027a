"""Ledger pages, adjustments, verification."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from tests.support import Api, CallAs, Reply

ADMIN: CallAs = {"as_": "boss", "groups": ("admin",)}


def _adjust(api: Api, adjustment_id: str, member: str, points: int, reason: str = "goodwill") -> Reply:
    return api.call("POST", "/v1/adjustments", {"adjustment_id": adjustment_id, "member_id": member,
                                                "points": points, "reason": reason}, **ADMIN)


def test_adjustments_are_new_entries_and_idempotent(api: Api) -> None:
    api.sign_up("dan")
    first = _adjust(api, "A-1", "dan", 50)
    assert first.status == 201
    assert (first.body["kind"], first.body["amount"], first.body["bucket"], first.body["seq"]) == (
        "adjustment", 50, "available", 1)
    assert _adjust(api, "A-1", "dan", 50).body == first.body
    assert _adjust(api, "A-1", "dan", 51).slug == "idempotency-mismatch"
    assert _adjust(api, "A-2", "dan", -80, "duplicate receipt").status == 201
    assert api.points("dan") == {"available": -30, "pending": 0, "lifetime_earned": -30}


def test_pages_are_newest_first_with_dense_seq_and_a_cursor(api: Api) -> None:
    api.sign_up("dan")
    for n in range(1, 8):
        assert _adjust(api, f"A-{n}", "dan", n).status == 201
    page = api.call("GET", "/v1/members/me/ledger?limit=3", as_="dan").body
    assert [e["seq"] for e in page["items"]] == [7, 6, 5]
    rest = api.call("GET", f"/v1/members/me/ledger?limit=3&cursor={page['next_cursor']}", as_="dan").body
    assert [e["seq"] for e in rest["items"]] == [4, 3, 2]
    last = api.call("GET", f"/v1/members/me/ledger?limit=3&cursor={rest['next_cursor']}", as_="dan").body
    assert [e["seq"] for e in last["items"]] == [1] and last["next_cursor"] is None
    assert api.call("GET", "/v1/members/me/ledger", as_="stranger").status == 404


def test_anyone_with_the_entries_can_recompute_the_chain(api: Api) -> None:
    """The hash is SHA-256 over the canonical JSON of the entry without its hash (docs/ledger.md)."""
    api.chain("carol", "dan")
    api.purchase("O-1", "dan", 5000)
    _adjust(api, "A-1", "dan", 7)
    entries = list(reversed(api.ledger("dan")))
    previous = "0" * 64
    for entry in entries:
        content = {k: v for k, v in entry.items() if k != "hash"}
        canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        assert entry["prev_hash"] == previous
        assert hashlib.sha256(canonical).hexdigest() == entry["hash"]
        previous = entry["hash"]
    report = api.verify("dan")
    assert report == {"member_id": "dan", "entries": 2, "chain_valid": True, "balances_match": True,
                      "head_hash": previous, "first_invalid_seq": None, "problems": []}


def test_verification_finds_a_tampered_entry(api: Api, dynamodb: Any) -> None:
    api.sign_up("dan")
    for n in range(1, 4):
        _adjust(api, f"A-{n}", "dan", 10)
    key = {"member_id": {"S": "dan"}, "seq": {"N": "2"}}  # adjustment A-2
    dynamodb.update_item(TableName="LedgerTable", Key=key, UpdateExpression="SET amount = :a",
                         ExpressionAttributeValues={":a": {"N": "1000"}})
    report = api.verify("dan")
    assert (report["chain_valid"], report["first_invalid_seq"], report["balances_match"]) == (False, 2, False)

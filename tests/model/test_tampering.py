"""Tampering: edit, delete, reorder or insert entries directly in the ledger table (as someone with
write access to DynamoDB could) and check that ``GET /v1/members/{id}/ledger/verify`` finds exactly
the first broken entry, for every kind of tampering at every position of a six-entry chain.

**The first broken entry.** Verification reads the member's entries in seq order and checks them
against what an intact chain must be: the entry at position s carries seq s, its ``prev_hash`` is
the hash of the entry at s − 1 (64 zeros for s = 1), and its ``hash`` is the SHA-256 of its own
content; after the last entry, the chain must end where the account's head says (its seq and
hash). ``first_invalid_seq`` is the smallest s where one of these fails; if every entry passes but
the head does not match, it is the first seq the head and the entries disagree about. Nothing
else can be known from the table, so:

- an entry edited without fixing its hash is found at itself;
- an entry edited with its hash recomputed is intact on its own; the break is the *next* entry,
  whose ``prev_hash`` no longer links, or the entry itself when it was the last (its hash is no
  longer the account's head);
- a deleted entry is found at its seq: the next entry sits one position early, or, for the last
  one, the head names a seq that is missing;
- two entries whose seqs were swapped are found at the earlier of the two positions: the entry now
  there does not link to the one before it;
- a forged entry with the seq of an existing one (however well forged: linked and hashed) is found
  at that seq, which the chain then holds twice;
- a forged entry appended past the head (linked and hashed) is found at head + 1, a seq the account
  never wrote.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from loyalty.ledger.assets import Bucket, EntryKind
from loyalty.ledger.dynamodb import entry_from_item, entry_item
from loyalty.ledger.entries import GENESIS_HASH, Entry, Source
from loyalty.shared.clock import FixedClock
from tests.support import Api

TABLE = "LedgerTable"
MEMBER = "dan"
LENGTH = 6
WEEK = 7 * 86400

_to_item, _from_item = TypeSerializer(), TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def build_chain(api: Api, clock: FixedClock) -> None:
    """Dan's six entries, of every kind a chain holds: a purchase, a release pair, an adjustment, a
    redemption and a refund."""
    api.chain("carol", MEMBER)
    assert api.purchase("O-1", MEMBER, 12900).status == 201  # 1: purchase, pending
    clock.advance(WEEK)
    adjusted = api.call("POST", "/v1/adjustments", {"adjustment_id": "A-1", "member_id": MEMBER, "points": 5,
                                                    "reason": "goodwill"}, as_="boss", groups=("admin",))
    assert adjusted.status == 201  # 2, 3: release pair; 4: adjustment
    assert api.redeem(MEMBER, 100, "k-1").status == 201  # 5: redemption
    assert api.refund("O-1", "R-1", 4300).status == 201  # 6: refund, out of available
    report = api.verify(MEMBER)
    assert (report["entries"], report["chain_valid"], report["balances_match"]) == (LENGTH, True, True)


def stored(dynamodb: Any) -> dict[int, Entry]:
    """Dan's entries as the table holds them, by seq."""
    answer = dynamodb.query(TableName=TABLE, IndexName="by_seq", KeyConditionExpression="member_id = :m",
                            ExpressionAttributeValues={":m": {"S": MEMBER}}, ConsistentRead=True)
    entries = [entry_from_item(_plain({k: _from_item.deserialize(v) for k, v in i.items()})) for i in answer["Items"]]
    return {e.seq: e for e in entries}


def put(dynamodb: Any, entry: Entry) -> None:
    item = {k: _to_item.serialize(v) for k, v in entry_item(entry).items()}
    dynamodb.put_item(TableName=TABLE, Item=item)


def key(entry: Entry) -> dict[str, Any]:
    return {"member_id": {"S": entry.holder}, "entry_id": {"S": entry.entry_id}}


def forged(seq: int, prev_hash: str) -> Entry:
    """A credit nobody earned, linked and hashed exactly as a real entry would be."""
    return Entry(holder=MEMBER, entry_id=f"adjustment/FORGED-{seq}/{MEMBER}", seq=seq, asset="points",
                 amount=10_000, bucket=Bucket.AVAILABLE, kind=EntryKind.ADJUSTMENT, level=None,
                 source=Source("adjustment", f"FORGED-{seq}"), rule_version=None, created_at="2026-11-30T09:30:00Z",
                 available_at=None, prev_hash=prev_hash).sealed()


# --- the kinds of tampering: each changes the table and returns the seq verification must report ---

def edit(dynamodb: Any, seq: int) -> int:
    entry = stored(dynamodb)[seq]
    dynamodb.update_item(TableName=TABLE, Key=key(entry), UpdateExpression="SET amount = :a",
                         ExpressionAttributeValues={":a": {"N": str(entry.amount + 1000)}})
    return seq


def edit_and_rehash(dynamodb: Any, seq: int) -> int:
    entry = stored(dynamodb)[seq]
    put(dynamodb, dataclasses.replace(entry, amount=entry.amount + 1000).sealed())
    return seq + 1 if seq < LENGTH else seq


def delete(dynamodb: Any, seq: int) -> int:
    dynamodb.delete_item(TableName=TABLE, Key=key(stored(dynamodb)[seq]))
    return seq


def swap(dynamodb: Any, first: int, second: int) -> int:
    entries = stored(dynamodb)
    for entry, seq in ((entries[first], second), (entries[second], first)):
        dynamodb.update_item(TableName=TABLE, Key=key(entry), UpdateExpression="SET seq = :s",
                             ExpressionAttributeValues={":s": {"N": str(seq)}})
    return min(first, second)


def insert_duplicate(dynamodb: Any, seq: int) -> int:
    entries = stored(dynamodb)
    put(dynamodb, forged(seq, entries[seq - 1].hash if seq > 1 else GENESIS_HASH))
    return seq


def append_past_head(dynamodb: Any, gap: int) -> int:
    """A forged entry after the head, right after it (gap 0) or further on (a gap of missing seqs)."""
    put(dynamodb, forged(LENGTH + 1 + gap, stored(dynamodb)[LENGTH].hash))
    return LENGTH + 1


Tamper = Callable[[Any], int]
POSITIONS = range(1, LENGTH + 1)
CASES: list[tuple[str, Tamper]] = [
    *[(f"edit {s}", lambda db, s=s: edit(db, s)) for s in POSITIONS],
    *[(f"edit and rehash {s}", lambda db, s=s: edit_and_rehash(db, s)) for s in POSITIONS],
    *[(f"delete {s}", lambda db, s=s: delete(db, s)) for s in POSITIONS],
    *[(f"swap {a} and {b}", lambda db, a=a, b=b: swap(db, a, b)) for a in POSITIONS for b in POSITIONS if a < b],
    *[(f"insert a second {s}", lambda db, s=s: insert_duplicate(db, s)) for s in POSITIONS],
    *[(f"append past the head, gap {g}", lambda db, g=g: append_past_head(db, g)) for g in (0, 1)],
]


@pytest.mark.parametrize("tamper", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_verification_finds_exactly_the_first_broken_entry(api: Api, clock: FixedClock, dynamodb: Any,
                                                           tamper: Tamper) -> None:
    build_chain(api, clock)
    first_broken = tamper(dynamodb)
    report = api.verify(MEMBER)
    assert (report["chain_valid"], report["first_invalid_seq"]) == (False, first_broken), report["problems"]
    assert report["problems"], report


def test_every_kind_is_tried_at_every_position() -> None:
    names = [name for name, _ in CASES]
    for kind in ("edit", "edit and rehash", "delete", "insert a second"):
        assert [n for n in names if n.rsplit(" ", 1)[0] == kind] == [f"{kind} {s}" for s in POSITIONS]
    assert sum(n.startswith("swap ") for n in names) == LENGTH * (LENGTH - 1) // 2


# An entry edited out of shape: the same tampering, but the edit also breaks the item's types.
MALFORMED = {
    "amount as a string": ("SET amount = :v", None, {":v": {"S": "1000"}}),
    "an unknown bucket": ("SET #a = :v", {"#a": "bucket"}, {":v": {"S": "vault"}}),
    "the hash removed": ("REMOVE #a", {"#a": "hash"}, None),
}


@pytest.mark.parametrize("edit", list(MALFORMED.values()), ids=list(MALFORMED))
def test_an_entry_edited_out_of_shape_is_found_not_a_crash(api: Api, clock: FixedClock, dynamodb: Any,
                                                           edit: tuple[str, Any, Any]) -> None:
    build_chain(api, clock)
    expression, names, values = edit
    update: dict[str, Any] = {"TableName": TABLE, "Key": key(stored(dynamodb)[3]), "UpdateExpression": expression}
    if names:
        update["ExpressionAttributeNames"] = names
    if values:
        update["ExpressionAttributeValues"] = values
    dynamodb.update_item(**update)
    reply = api.call("GET", f"/v1/members/{MEMBER}/ledger/verify", as_="auditor", groups=("admin",))
    assert reply.status == 200, reply.body
    assert (reply.body["chain_valid"], reply.body["first_invalid_seq"]) == (False, 3)

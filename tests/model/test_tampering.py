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
- two entries that traded places are found at the earlier of the two positions: the entry now
  there does not link to the one before it;
- a forged entry written over an existing one (however well forged: linked and hashed) is found where
  the chain stops linking: the entry after it, or the head. (Entries are keyed by seq, so a second entry
  at a taken seq cannot exist: writing one replaces the first.)
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

from loyalty.anchoring.domain import HistoryRewritten
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
    answer = dynamodb.query(TableName=TABLE, KeyConditionExpression="member_id = :m",
                            ExpressionAttributeValues={":m": {"S": MEMBER}}, ConsistentRead=True)
    entries = [entry_from_item(_plain({k: _from_item.deserialize(v) for k, v in i.items()})) for i in answer["Items"]]
    return {e.seq: e for e in entries}


def put(dynamodb: Any, entry: Entry) -> None:
    item = {k: _to_item.serialize(v) for k, v in entry_item(entry).items()}
    dynamodb.put_item(TableName=TABLE, Item=item)


def key(entry: Entry) -> dict[str, Any]:
    return {"member_id": {"S": entry.holder}, "seq": {"N": str(entry.seq)}}


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
    """Two entries trade places (entries are keyed by seq: each is written again at the other's place)."""
    entries = stored(dynamodb)
    for entry, seq in ((entries[first], second), (entries[second], first)):
        put(dynamodb, dataclasses.replace(entry, seq=seq))
    return min(first, second)


def replace_with_forged(dynamodb: Any, seq: int) -> int:
    """A forged entry written over the one at ``seq``, linked to the entry before it and hashed correctly: the
    break shows where the next entry no longer links to it (or at the head, which no longer matches)."""
    entries = stored(dynamodb)
    put(dynamodb, forged(seq, entries[seq - 1].hash if seq > 1 else GENESIS_HASH))
    return seq + 1 if seq < LENGTH else seq


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
    *[(f"replace with a forged {s}", lambda db, s=s: replace_with_forged(db, s)) for s in POSITIONS],
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
    for kind in ("edit", "edit and rehash", "delete", "replace with a forged"):
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


# --- a whole chain rewritten, consistently, after the anchor published its heads (docs/anchoring.md) ------

def publish_digest(api: Api) -> dict[str, Any]:
    """What the anchor's schedule does: a digest of every chain head, in the Object Lock bucket."""
    from functions.anchor.app import handler

    return dict(api.gateway.run(handler, {"job": "anchor"}, "AnchorFunction"))


def rewrite_history(dynamodb: Any) -> None:
    """Dan's redemption of 100 points rewritten as one of 10, and everything after it rehashed: every link,
    every hash, the account's head and its balance agree, as a writer with the table's rights could make them."""
    entries = stored(dynamodb)
    previous = entries[4].hash
    for seq in range(5, LENGTH + 1):
        entry = entries[seq]
        amount = -10 if entry.kind is EntryKind.REDEMPTION else entry.amount
        rewritten = dataclasses.replace(entry, amount=amount, prev_hash=previous).sealed()
        put(dynamodb, rewritten)
        previous = rewritten.hash
    dynamodb.update_item(TableName="AccountsTable", Key={"member_id": {"S": MEMBER}},
                         UpdateExpression="SET head_hash = :h, balances.points.buckets.available = "
                                          "balances.points.buckets.available + :d",
                         ExpressionAttributeValues={":h": {"S": previous}, ":d": {"N": "90"}})


def run_verifier(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    import json

    from ops import verify

    code = verify.main(["--json"])
    return code, json.loads(capsys.readouterr().out)


def test_a_chain_rewritten_after_a_digest_verifies_on_its_own_but_the_anchor_names_the_member(
        api: Api, clock: FixedClock, dynamodb: Any, capsys: pytest.CaptureFixture[str]) -> None:
    build_chain(api, clock)
    assert publish_digest(api)["published"] is True
    rewrite_history(dynamodb)

    report = api.verify(MEMBER)  # the chain alone cannot know: it is consistent
    assert (report["chain_valid"], report["balances_match"]) == (True, True), report
    assert api.points(MEMBER)["available"] == -9 + 90  # what the rewrite gave back

    code, summary = run_verifier(capsys)
    assert code == 1
    assert summary["ok"] is True  # every chain and every balance adds up …
    anchor = summary["anchor"]
    assert anchor["ok"] is False and anchor["rewritten"] == 1  # … but the history is not the one published
    assert anchor["problems"][0].startswith(f"REWRITTEN member {MEMBER}: ")
    assert f"at seq {LENGTH}" in anchor["problems"][0]


def test_the_anchor_never_publishes_a_rewritten_history_so_the_rewrite_stays_visible(
        api: Api, clock: FixedClock, dynamodb: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Were the next digest taken of the rewritten ledger, two hours later neither digest the verifier reads
    would hold the genuine head. The anchor checks the chains only grew since its latest digest, refuses, and
    the genuine digest stays the latest, however many hours and entries follow."""
    build_chain(api, clock)
    genuine = publish_digest(api)
    rewrite_history(dynamodb)
    assert api.redeem(MEMBER, 1, "k-after").status == 201  # the chain grows on the rewritten history
    for _ in range(3):
        clock.advance(3600)
        with pytest.raises(HistoryRewritten, match=f"{MEMBER}: the entry at that seq is not the one published"):
            publish_digest(api)

    code, summary = run_verifier(capsys)
    assert code == 1
    assert summary["anchor"]["latest"]["published_at"] == genuine["published_at"]
    assert summary["anchor"]["problems"][0].startswith(f"REWRITTEN member {MEMBER}: ")


def test_a_chain_grown_after_two_digests_passes_the_anchor(api: Api, clock: FixedClock,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    build_chain(api, clock)
    first = publish_digest(api)
    assert api.purchase("O-2", MEMBER, 5000).status == 201  # dan and carol grow
    clock.advance(3600)
    second = publish_digest(api)
    assert second["published"] is True and second["root"] != first["root"]
    assert api.purchase("O-3", MEMBER, 100).status == 201  # and grow again after the latest

    code, summary = run_verifier(capsys)
    assert code == 0, summary["anchor"]
    anchor = summary["anchor"]
    assert anchor["ok"] is True and anchor["problems"] == []
    assert (anchor["latest"]["published_at"], anchor["previous"]["published_at"]) == (
        second["published_at"], first["published_at"])
    assert anchor["heads_checked"] == 4  # dan and carol, in each digest


def test_nothing_moved_nothing_is_published(api: Api, clock: FixedClock) -> None:
    build_chain(api, clock)
    first = publish_digest(api)
    clock.advance(3600)
    again = publish_digest(api)
    assert (again["published"], again["published_at"]) == (False, first["published_at"])


def _edit_root(s3: Any, bucket: str, key: str, body: dict[str, Any]) -> None:
    body["root"] = "0" * 64


def _edit_a_head(s3: Any, bucket: str, key: str, body: dict[str, Any]) -> None:
    """The heads object rewritten to name the rewritten chain's head (its hash line changed), the digest kept."""
    lines = s3.get_object(Bucket=bucket, Key=body["heads_key"])["Body"].read().decode().splitlines()
    lines[-1] = lines[-1].replace(lines[-1][9:73], "f" * 64)  # {"hash":"<64 hex>",…
    s3.put_object(Bucket=bucket, Key=body["heads_key"], Body="".join(line + "\n" for line in lines).encode())


@pytest.mark.parametrize("edit", [_edit_root, _edit_a_head], ids=["the root", "a head"])
def test_an_edited_digest_is_reported(api: Api, clock: FixedClock, capsys: pytest.CaptureFixture[str],
                                      edit: Callable[..., None]) -> None:
    """Object Lock keeps every version; someone able to write a new version (no If-None-Match, a governance
    bypass) still cannot make the digest agree with its heads."""
    import json
    import os

    import boto3

    build_chain(api, clock)
    published = publish_digest(api)
    s3, bucket = boto3.client("s3"), os.environ["ANCHOR_BUCKET"]
    key = f"digests/2026/11/30/{published['published_at']}.json"
    body = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    edit(s3, bucket, key, body)
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(body).encode())

    code, summary = run_verifier(capsys)
    assert code == 1
    assert any("does not recompute from its" in p for p in summary["anchor"]["problems"]), summary["anchor"]

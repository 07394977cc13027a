"""The posting engine and the hash chain (pure domain), for points as the product uses them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.ledger.accounts import Account, Balance
from loyalty.ledger.assets import Bucket, EntryKind
from loyalty.ledger.entries import GENESIS_HASH, Entry, Source
from loyalty.ledger.posting import LedgerInvariantError, Posting, post
from loyalty.ledger.verification import verify
from loyalty.shared.clock import to_rfc3339

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
LATER = to_rfc3339(NOW + timedelta(days=7))


def credit(points: int, order: str, available_at: str | None = LATER) -> Posting:
    bucket = Bucket.PENDING if available_at else Bucket.AVAILABLE
    return Posting("dan", "points", points, bucket, EntryKind.PURCHASE, Source("purchase", order), level=0,
                   rule_version=1, available_at=available_at)


def spend(points: int, name: str) -> Posting:
    return Posting("dan", "points", -points, Bucket.AVAILABLE, EntryKind.REDEMPTION, Source("redemption", name))


def build(*steps: tuple[list[Posting], datetime]) -> tuple[Account, list[Entry]]:
    entries: list[Entry] = []
    account = Account("dan")
    for postings, at in steps:
        result = post(account, postings, at)
        account, entries = result.account, entries + result.entries
    return account, entries


def test_entries_chain_from_the_genesis_hash_with_dense_seq() -> None:
    account, entries = build(([credit(10, "a")], NOW), ([credit(5, "b")], NOW))
    assert [e.seq for e in entries] == [1, 2]
    assert entries[0].prev_hash == GENESIS_HASH and entries[1].prev_hash == entries[0].hash
    assert account.seq == 2 and account.head_hash == entries[1].hash


def test_the_hash_is_sha256_of_the_documented_canonical_json() -> None:
    """Computed here from docs/ledger.md alone, not with ``Entry.computed_hash``: a change to what the hash
    covers, or to how it is serialised, fails this test."""
    _, entries = build(([credit(129, "POS-1")], NOW))
    content = {"member_id": "dan", "entry_id": "purchase/POS-1/dan", "seq": 1, "asset": "points", "amount": 129,
               "bucket": "pending", "kind": "purchase", "level": 0, "source": {"type": "purchase", "id": "POS-1"},
               "rule_version": 1, "created_at": "2026-11-23T09:30:00Z", "available_at": "2026-11-30T09:30:00Z",
               "prev_hash": "0" * 64}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert entries[0].hash == hashlib.sha256(canonical).hexdigest()
    assert entries[0].body() == {**content, "hash": entries[0].hash}


def test_pending_lots_count_as_available_once_their_time_has_come() -> None:
    account, _ = build(([credit(10, "a")], NOW))
    assert account.available("points", NOW + timedelta(days=7) - timedelta(seconds=1)) == 0
    view = account.view("points", NOW + timedelta(days=7))
    assert (view[Bucket.AVAILABLE], view[Bucket.PENDING]) == (10, 0)
    points = account.balance("points")
    assert (points[Bucket.AVAILABLE], points[Bucket.PENDING]) == (0, 10)  # stored state unchanged by reads


def test_the_next_write_releases_matured_lots_as_a_pair_of_entries_named_by_the_hold_they_end() -> None:
    later = NOW + timedelta(days=8)
    account, entries = build(([credit(10, "a")], NOW), ([spend(4, "r1")], later))
    assert [(e.kind, e.bucket, e.amount) for e in entries] == [
        (EntryKind.PURCHASE, Bucket.PENDING, 10), (EntryKind.RELEASE, Bucket.PENDING, -10),
        (EntryKind.RELEASE, Bucket.AVAILABLE, 10), (EntryKind.REDEMPTION, Bucket.AVAILABLE, -4)]
    assert [e.source for e in entries[1:3]] == [Source("release", LATER)] * 2
    assert [e.entry_id for e in entries[1:3]] == [f"release/{LATER}/dan/pending", f"release/{LATER}/dan/available"]
    points = account.balance("points")
    assert (points[Bucket.AVAILABLE], points[Bucket.PENDING], dict(points.lots), points.earned) == (6, 0, {}, 10)


def test_a_release_of_several_lots_is_named_by_the_latest() -> None:
    first, second = LATER, to_rfc3339(NOW + timedelta(days=7, hours=3))
    account, entries = build(([credit(10, "a"), credit(5, "b", second)], NOW), ([spend(1, "r")], NOW + timedelta(9)))
    assert entries[2].source == Source("release", second) and entries[2].amount == -15
    assert first < second and dict(account.balance("points").lots) == {}


def test_a_reversal_of_a_held_credit_comes_out_of_its_lot() -> None:
    reversal = Posting("dan", "points", -3, Bucket.PENDING, EntryKind.REFUND, Source("refund", "a/r"), level=0,
                       rule_version=1, available_at=LATER)
    account, _ = build(([credit(10, "a")], NOW), ([reversal], NOW))
    points = account.balance("points")
    assert dict(points.lots) == {LATER: 7} and points[Bucket.PENDING] == 7


def test_a_lot_cannot_go_below_zero() -> None:
    account, _ = build(([credit(2, "a")], NOW))
    reversal = Posting("dan", "points", -3, Bucket.PENDING, EntryKind.REFUND, Source("refund", "a/r"),
                       available_at=LATER)
    with pytest.raises(LedgerInvariantError):
        post(account, [reversal], NOW)


def test_a_lot_cannot_go_below_zero_even_when_other_lots_keep_pending_above_it() -> None:
    """The pending total (2 + 10) would cover a reversal of 3, but the lot it names holds 2: without the lot's own
    check the lot would be stored at -1, and its hour would release -1 point (out of available, into pending)."""
    other = to_rfc3339(NOW + timedelta(days=7, hours=1))
    account, _ = build(([credit(2, "a"), credit(10, "b", other)], NOW))
    reversal = Posting("dan", "points", -3, Bucket.PENDING, EntryKind.REFUND, Source("refund", "a/r"),
                       available_at=LATER)
    with pytest.raises(LedgerInvariantError):
        post(account, [reversal], NOW)


def test_available_points_may_go_below_zero() -> None:
    account, _ = build(([spend(5, "r")], NOW))
    assert account.balance("points")[Bucket.AVAILABLE] == -5


def test_entry_ids_are_derived_from_the_source_and_the_holder() -> None:
    _, entries = build(([credit(10, "ORD-1")], NOW))
    assert entries[0].entry_id == "purchase/ORD-1/dan"


def test_postings_for_another_holder_or_an_unknown_asset_are_refused() -> None:
    with pytest.raises(LedgerInvariantError):
        post(Account("dan"), [replace(credit(1, "a"), holder="bob")], NOW)
    with pytest.raises(LedgerInvariantError):
        post(Account("dan"), [replace(credit(1, "a"), asset="gold")], NOW)
    with pytest.raises(LedgerInvariantError):
        post(Account("dan"), [replace(credit(1, "a"), bucket=Bucket.PRINCIPAL)], NOW)


def _history() -> tuple[Account, list[Entry]]:
    steps = [([credit(n, f"o{n}")], NOW) for n in range(1, 6)]
    return build(*steps)


def test_an_intact_chain_verifies() -> None:
    account, entries = _history()
    report = verify(account, entries)
    assert (report.chain_valid, report.balances_match, report.entries, report.first_invalid_seq) == (
        True, True, 5, None)


@pytest.mark.parametrize("position", range(5))
def test_an_edited_entry_is_found_where_it_is(position: int) -> None:
    account, entries = _history()
    entries[position] = replace(entries[position], amount=entries[position].amount + 100)
    report = verify(account, entries)
    assert (report.chain_valid, report.first_invalid_seq, report.balances_match) == (False, position + 1, False)


@pytest.mark.parametrize("position", range(5))
def test_an_edited_entry_with_a_recomputed_hash_breaks_the_next_link(position: int) -> None:
    account, entries = _history()
    entries[position] = replace(entries[position], amount=1000).sealed()
    report = verify(account, entries)
    assert not report.chain_valid
    assert report.first_invalid_seq == min(position + 2, 5)


@pytest.mark.parametrize("position", range(5))
def test_a_deleted_entry_is_found_where_it_was(position: int) -> None:
    account, entries = _history()
    del entries[position]
    assert verify(account, entries).first_invalid_seq == position + 1


@pytest.mark.parametrize("position", range(4))
def test_swapped_entries_are_found(position: int) -> None:
    account, entries = _history()
    entries[position], entries[position + 1] = entries[position + 1], entries[position]
    assert verify(account, entries).first_invalid_seq == position + 1


def test_an_appended_forged_entry_is_found() -> None:
    account, entries = _history()
    forged = replace(entries[-1], seq=6, entry_id="forged", prev_hash=entries[-1].hash).sealed()
    report = verify(account, [*entries, forged])
    assert (report.chain_valid, report.first_invalid_seq) == (False, 6)


@pytest.mark.parametrize(("edit", "problem"), [
    (lambda b: replace(b, lots={LATER: 16}), f"points/lots: the entries leave {{{LATER}: 15}}, stored {{{LATER}: 16}}"),
    (lambda b: replace(b, lots={"2026-12-01T09:00:00Z": 15}),
     f"points/lots: the entries leave {{{LATER}: 15}}, stored {{2026-12-01T09:00:00Z: 15}}"),
    (lambda b: replace(b, buckets={**b.buckets, "pending": 16}), "points/pending: entries sum to 15, stored 16"),
    (lambda b: replace(b, earned=14), "points/lifetime_earned: entries sum to 15, stored 14"),
], ids=["lot-amount", "lot-moved-to-another-hour", "pending", "lifetime-earned"])
def test_a_hand_edited_account_does_not_match_its_entries(edit: object, problem: str) -> None:
    """Every stored figure is checked against the entries, each pending lot by its hour included (dropping the
    lots check left ``balances_match`` true with a lot edited by hand)."""
    account, entries = _history()
    edited = replace(account, balances={"points": edit(account.balance("points"))})  # type: ignore[operator]
    report = verify(edited, entries)
    assert (report.chain_valid, report.balances_match) == (True, False)
    assert problem in report.problems, report.problems


def test_a_release_must_release_exactly_the_lots_it_ends() -> None:
    account, entries = build(([credit(10, "a")], NOW), ([spend(1, "r")], NOW + timedelta(days=8)))
    forged = [entries[0], replace(entries[1], amount=-9), replace(entries[2], amount=9), entries[3]]
    relinked, head = [], GENESIS_HASH
    for entry in forged:  # rehashed and relinked: only the arithmetic of the release is wrong
        entry = replace(entry, prev_hash=head).sealed()
        relinked.append(entry)
        head = entry.hash
    report = verify(replace(account, head_hash=head), relinked)
    assert report.chain_valid and not report.balances_match
    assert "seq 2: releases 9, the lots it ends hold 10" in report.problems


@given(st.lists(st.tuples(st.integers(-50, 200), st.integers(0, 10)), min_size=1, max_size=30))
def test_balances_always_equal_the_sum_of_the_entries(moves: list[tuple[int, int]]) -> None:
    entries: list[Entry] = []
    account, at = Account("dan"), NOW
    for n, (amount, days) in enumerate(moves):
        at += timedelta(days=days)
        if amount >= 0:
            line = credit(amount, f"o{n}", to_rfc3339(at + timedelta(days=3)))
        else:
            line = Posting("dan", "points", amount, Bucket.AVAILABLE, EntryKind.ADJUSTMENT,
                           Source("adjustment", f"a{n}"))
        result = post(account, [line], at)
        account, entries = result.account, entries + result.entries
    report = verify(account, entries)
    assert report.chain_valid and report.balances_match
    points = account.balance("points")
    assert points[Bucket.AVAILABLE] == sum(e.amount for e in entries if e.bucket is Bucket.AVAILABLE)
    assert points[Bucket.PENDING] == sum(points.lots.values())


def test_an_account_item_round_trips_exactly() -> None:
    from loyalty.ledger.dynamodb import account_from_item, account_item

    account, _ = build(([credit(10, "a"), spend(3, "r")], NOW))
    assert account_from_item(account_item(account)) == account
    assert Balance() == Account("x").balance("points")

"""The posting engine and the hash chain (pure domain)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.clock import to_rfc3339
from loyalty.ledger import (
    GENESIS_HASH,
    Account,
    Bucket,
    Entry,
    Kind,
    LedgerInvariantError,
    Posting,
    Source,
    post,
    verify,
)

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
LATER = to_rfc3339(NOW + timedelta(days=7))


def credit(points: int, order: str, available_at: str | None = LATER) -> Posting:
    bucket = Bucket.PENDING if available_at else Bucket.AVAILABLE
    return Posting("dan", points, bucket, Kind.PURCHASE, Source("purchase", order), level=0, rule_version=1,
                   available_at=available_at)


def build(*steps: tuple[list[Posting], datetime]) -> tuple[Account, list[Entry]]:
    account, entries = Account("dan"), []
    for postings, at in steps:
        result = post(account, postings, at)
        account, entries = result.account, entries + result.entries
    return account, entries


def test_entries_chain_from_the_genesis_hash_with_dense_seq() -> None:
    account, entries = build(([credit(10, "a")], NOW), ([credit(5, "b")], NOW))
    assert [e.seq for e in entries] == [1, 2]
    assert entries[0].prev_hash == GENESIS_HASH and entries[1].prev_hash == entries[0].hash
    assert account.seq == 2 and account.head_hash == entries[1].hash
    assert all(e.hash == e.computed_hash() for e in entries)


def test_pending_lots_count_as_available_once_their_time_has_come() -> None:
    account, _ = build(([credit(10, "a")], NOW))
    assert account.view(NOW + timedelta(days=7) - timedelta(seconds=1)).available == 0
    view = account.view(NOW + timedelta(days=7))
    assert (view.available, view.pending) == (10, 0)
    assert (account.points.available, account.points.pending) == (0, 10)  # stored state unchanged by reads


def test_the_next_write_releases_matured_lots_as_a_pair_of_entries() -> None:
    later = NOW + timedelta(days=8)
    spend = Posting("dan", -4, Bucket.AVAILABLE, Kind.REDEMPTION, Source("redemption", "r1"))
    account, entries = build(([credit(10, "a")], NOW), ([spend], later))
    assert [(e.kind, e.bucket, e.amount) for e in entries] == [
        (Kind.PURCHASE, Bucket.PENDING, 10), (Kind.RELEASE, Bucket.PENDING, -10),
        (Kind.RELEASE, Bucket.AVAILABLE, 10), (Kind.REDEMPTION, Bucket.AVAILABLE, -4)]
    assert (account.points.available, account.points.pending, dict(account.points.lots)) == (6, 0, {})
    assert account.points.lifetime_earned == 10


def test_a_reversal_of_a_held_credit_comes_out_of_its_lot() -> None:
    reversal = Posting("dan", -3, Bucket.PENDING, Kind.REFUND, Source("refund", "a/r"), level=0, rule_version=1,
                       available_at=LATER)
    account, _ = build(([credit(10, "a")], NOW), ([reversal], NOW))
    assert dict(account.points.lots) == {LATER: 7} and account.points.pending == 7


def test_a_lot_cannot_go_below_zero() -> None:
    account, _ = build(([credit(2, "a")], NOW))
    reversal = Posting("dan", -3, Bucket.PENDING, Kind.REFUND, Source("refund", "a/r"), available_at=LATER)
    with pytest.raises(LedgerInvariantError):
        post(account, [reversal], NOW)


def test_entry_ids_are_derived_from_the_source_and_the_beneficiary() -> None:
    _, entries = build(([credit(10, "ORD-1")], NOW))
    assert entries[0].entry_id == "purchase/ORD-1/dan"


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


@given(st.lists(st.tuples(st.integers(-50, 200), st.integers(0, 10)), min_size=1, max_size=30))
def test_balances_always_equal_the_sum_of_the_entries(moves: list[tuple[int, int]]) -> None:
    account, entries, at = Account("dan"), [], NOW
    for n, (amount, days) in enumerate(moves):
        at += timedelta(days=days)
        if amount >= 0:
            line = credit(amount, f"o{n}", to_rfc3339(at + timedelta(days=3)))
        else:
            line = Posting("dan", amount, Bucket.AVAILABLE, Kind.ADJUSTMENT, Source("adjustment", f"a{n}"))
        result = post(account, [line], at)
        account, entries = result.account, entries + result.entries
    report = verify(account, entries)
    assert report.chain_valid and report.balances_match
    assert account.points.available == sum(e.amount for e in entries if e.bucket is Bucket.AVAILABLE)
    assert account.points.pending == sum(account.points.lots.values())

"""Deferred postings: a lane's postings are applied once, in order, and a batch's lines say what they carry."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from loyalty.ledger.accounts import Account
from loyalty.ledger.assets import Bucket, EntryKind
from loyalty.ledger.deferred import Deferred, Delivered, batched, lane_of, unapplied
from loyalty.ledger.entries import Source
from loyalty.ledger.posting import Posting, post
from loyalty.ledger.verification import verify
from loyalty.shared.clock import to_rfc3339

NOW = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
LOT = to_rfc3339(NOW + timedelta(days=7))


def credit(order: str, points: int, level: int = 1, lot: str | None = LOT) -> Posting:
    return Posting("carol", "points", points, Bucket.PENDING if lot else Bucket.AVAILABLE, EntryKind.REFERRAL,
                   Source("purchase", order), level=level, rule_version=1, available_at=lot)


def reversal(order: str, refund: str, points: int, lot: str | None = LOT) -> Posting:
    return Posting("carol", "points", -points, Bucket.PENDING if lot else Bucket.AVAILABLE, EntryKind.REFUND,
                   Source("refund", f"{order}/{refund}"), level=1, rule_version=1, available_at=lot)


def delivered(position: int, posting: Posting, lane: int = 3) -> Delivered:
    return Delivered(Deferred(lane, to_rfc3339(NOW), posting), position)


def test_a_lane_is_applied_after_its_mark_only_and_the_marks_move_to_what_was_applied() -> None:
    batch = [delivered(10, credit("O-1", 5)), delivered(11, credit("O-2", 6)), delivered(12, credit("O-3", 7), lane=4)]
    fresh, marks = unapplied({3: 10}, batch)
    assert [d.position for d in fresh] == [11, 12]
    assert marks == {3: 11, 4: 12}
    again, same = unapplied(marks, batch)
    assert again == [] and same == marks


def test_one_posting_stays_the_events_own_line() -> None:
    assert batched([credit("O-1", 12)], "3:10", NOW) == [credit("O-1", 12)]


def test_credits_that_agree_become_one_line_listing_each_order_and_reversals_follow_them() -> None:
    lines = batched([credit("O-1", 12), credit("O-2", 6), credit("O-3", 3, level=2), reversal("O-1", "R-1", 4)],
                    "3:10", NOW)
    assert [(line.kind, line.amount, line.level, line.source, line.parts) for line in lines] == [
        (EntryKind.REFERRAL, 18, 1, Source("batch", "3:10:0"), (("purchase/O-1", 12), ("purchase/O-2", 6))),
        (EntryKind.REFERRAL, 3, 2, Source("purchase", "O-3"), None),
        (EntryKind.REFUND, -4, 1, Source("refund", "O-1/R-1"), None),
    ]
    result = post(Account("carol"), lines, NOW)
    report = verify(result.account, result.entries)
    assert report.chain_valid and report.balances_match
    assert result.account.balance("points")["pending"] == 17


def test_a_reversal_applied_after_the_hold_ended_comes_out_of_available() -> None:
    account = post(Account("carol"), [credit("O-1", 12)], NOW).account
    later = NOW + timedelta(days=8)
    lines = batched([reversal("O-1", "R-1", 12)], "3:11", later)
    assert (lines[0].bucket, lines[0].available_at) == (Bucket.AVAILABLE, None)
    result = post(account, lines, later)
    assert result.account.view("points", later).buckets == {"available": 0, "pending": 0}


@given(st.lists(st.tuples(st.integers(1, 50), st.integers(0, 3), st.booleans()), min_size=1, max_size=30),
       st.integers(0, 29))
def test_however_a_lane_is_delivered_again_each_posting_counts_once(items: list[tuple[int, int, bool]],
                                                                     redelivered_from: int) -> None:
    """A batch cut anywhere and delivered again from there (a crash, a retry) adds up to one delivery."""
    stream = [delivered(100 + n, credit(f"O-{n}", points, lot=LOT if held else None), lane=lane)
              for n, (points, lane, held) in enumerate(items)]
    cut = min(redelivered_from, len(stream))
    account = Account("carol")
    for part in (stream[:cut], stream[cut // 2:]):  # the second delivery repeats part of the first
        fresh, marks = unapplied(account.marks, part)
        if fresh:
            result = post(account, batched([d.deferred.posting for d in fresh], "b", NOW), NOW)
            account = Account(result.account.holder, result.account.seq, result.account.head_hash,
                              result.account.balances, marks)
    once = post(Account("carol"), [d.deferred.posting for d in stream], NOW).account
    assert account.balance("points").buckets == once.balance("points").buckets


def test_an_orders_lane_is_stable_and_in_range() -> None:
    assert lane_of("POS-2026-000123", 32) == lane_of("POS-2026-000123", 32)
    assert {lane_of(f"O-{n}", 32) for n in range(2000)} == set(range(32))
    assert lane_of("anything", 1) == 0


def test_verification_finds_a_batch_whose_parts_do_not_add_up() -> None:
    lines = batched([credit("O-1", 12), credit("O-2", 6)], "3:10", NOW)
    result = post(Account("carol"), lines, NOW)
    [entry] = result.entries
    forged = replace(entry, parts=(("purchase/O-1", 12), ("purchase/O-2", 60))).sealed()
    report = verify(result.account, [forged])
    assert report.chain_valid is False or not report.balances_match
    assert any("parts add up to 72, not its amount 18" in problem for problem in report.problems)


def test_a_batch_posts_what_adds_before_what_takes_away_so_no_lot_goes_below_zero() -> None:
    """Lot T holds O-x's 5; one batch brings O-x's reversal, O-y's credit and O-y's reversal, in lane order."""
    account = post(Account("carol"), [credit("O-x", 5)], NOW).account
    lines = batched([reversal("O-x", "R-1", 5), credit("O-y", 10), reversal("O-y", "R-2", 10)], "3:20", NOW)
    assert [(line.kind, line.amount) for line in lines] == [(EntryKind.REFERRAL, 10), (EntryKind.REFUND, -15)]
    result = post(account, lines, NOW)
    assert result.account.balance("points").lots == {} and result.account.balance("points")["pending"] == 0

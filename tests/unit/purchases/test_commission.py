"""A partner's commission on a purchase: credited within the attribution window, held like points, reversed pro
rata by refunds like every credit, kept in the purchase's record (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from loyalty.ledger.assets import COMMISSION, POINTS, Bucket, EntryKind
from loyalty.members.domain import PartnerBinding, ReferralPath, partner_holder, partner_of_holder
from loyalty.program.domain import DEFAULT_PROGRAM, ProgramRules
from loyalty.purchases.domain import (
    QUEUED,
    Credit,
    PurchaseRecorded,
    RefundRecorded,
    Reversal,
    credit_posting,
    credit_purchase,
    reverse_refund,
)

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
BOUND = PartnerBinding("kol-1", "2026-11-20T00:00:00Z", 500, "2026-12-20T00:00:00Z", "K7Q2M9XD4FAB3C", "spring",
                       "post-42")


def test_a_bound_buyer_earns_the_partner_5_percent_queued_and_held_like_points() -> None:
    credits = credit_purchase(DEFAULT_PROGRAM, "dan", ReferralPath(), 12900, NOW, BOUND)
    assert [(c.member_id, c.asset, c.points, c.status) for c in credits] == [
        ("dan", "points", 129, "posted"), ("partner#kol-1", "commission", 645, "queued")]
    commission = credits[1]
    assert commission.bucket is Bucket.PENDING and commission.available_at == credits[0].available_at
    posting = credit_posting(commission, "O-1")
    assert (posting.holder, posting.asset, posting.kind, posting.level) == (
        "partner#kol-1", COMMISSION.name, EntryKind.COMMISSION, None)
    recorded = PurchaseRecorded("O-1", "dan", 12900, "CNY", "x", 1, tuple(credits))
    assert [c.member_id for c in recorded.points_credits] == ["dan"]
    assert recorded.commission is not None and recorded.commission.partner_id == "kol-1"


def test_the_window_is_from_the_binding_to_its_end_and_the_commission_rounds_down() -> None:
    assert BOUND.commission(12999, datetime(2026, 11, 20, tzinfo=UTC)) == 649  # 649.95
    assert BOUND.commission(12999, datetime(2026, 12, 19, 23, 59, 59, tzinfo=UTC)) == 649
    assert BOUND.commission(12999, datetime(2026, 12, 20, tzinfo=UTC)) == 0  # the window's end is out
    assert BOUND.commission(12999, datetime(2026, 11, 19, 23, 59, tzinfo=UTC)) == 0  # a purchase from before
    assert BOUND.commission(19, NOW) == 0
    late = credit_purchase(DEFAULT_PROGRAM, "dan", ReferralPath(), 12900, NOW + timedelta(days=40), BOUND)
    assert [c.asset for c in late] == ["points"]  # past the window: no commission credit at all
    backdated = credit_purchase(DEFAULT_PROGRAM, "dan", ReferralPath(), 12900, NOW + timedelta(days=40), BOUND,
                                occurred_at=NOW)
    assert [c.asset for c in backdated] == ["points", "commission"]  # the till's occurred_at decides


def test_referrers_and_the_partner_are_credited_side_by_side_from_the_same_purchase() -> None:
    rules = ProgramRules(1, 1, (1000,), 0, "CNY")
    credits = credit_purchase(rules, "dan", ReferralPath(("carol",)), 10000, NOW, BOUND)
    assert [(c.member_id, c.points, c.bucket) for c in credits] == [
        ("dan", 100, Bucket.AVAILABLE), ("carol", 10, Bucket.AVAILABLE), ("partner#kol-1", 500, Bucket.AVAILABLE)]


@given(amount=st.integers(1, 10**7), bps=st.integers(0, 10_000),
       refunds=st.lists(st.integers(1, 10**7), max_size=6))
def test_refunds_reverse_a_commission_exactly_floor_of_its_share(amount: int, bps: int, refunds: list[int]) -> None:
    binding = PartnerBinding("p", "2026-01-01T00:00:00Z", bps, "2027-01-01T00:00:00Z", "C")
    credits = [c for c in credit_purchase(DEFAULT_PROGRAM, "dan", ReferralPath(), amount, NOW, binding)
               if c.asset == COMMISSION.name]
    total = sum(c.points for c in credits)
    assert total == amount * bps // 10_000
    refunded = 0
    taken = 0
    for n, r in enumerate(refunds):
        r = min(r, amount - refunded)
        if r <= 0:
            break
        lines = reverse_refund(credits, amount, refunded, r, "O", f"R{n}", NOW)
        assert all(p.asset == COMMISSION.name and p.kind is EntryKind.REFUND and p.level is None for p in lines)
        refunded += r
        taken -= sum(p.amount for p in lines)
        assert taken == total * refunded // amount  # floor(c × R / A), never drifting
    if refunded == amount:
        assert taken == total


def test_records_without_an_asset_are_points_and_the_commission_keeps_its_own() -> None:
    old = {"member_id": "carol", "level": 1, "points": 12, "bucket": "pending", "available_at": None,
           "rule_version": 1, "status": "queued"}
    assert Credit.from_dict(old).asset == POINTS.name and "asset" not in Credit.from_dict(old).to_dict()
    commission = Credit("partner#p", -1, 5, Bucket.PENDING, None, 1, QUEUED, COMMISSION.name)
    assert Credit.from_dict(commission.to_dict()) == commission
    refund = RefundRecorded("R", "O", 1, (Reversal("dan", 0, 1), Reversal("partner#p", 0, 5, QUEUED, "commission")))
    assert [r.member_id for r in refund.points_reversals] == ["dan"]
    assert refund.commission_reversal is not None and refund.commission_reversal.amount_minor == 5


def test_a_partners_chain_is_named_apart_from_every_member() -> None:
    assert partner_holder("kol-1") == "partner#kol-1" and partner_of_holder("partner#kol-1") == "kol-1"
    assert partner_of_holder("dan") is None
    assert PartnerBinding.from_dict(BOUND.to_dict()) == BOUND

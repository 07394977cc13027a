"""Programme rules, credits up the tree, pro-rata refunds (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.ledger.assets import Bucket
from loyalty.members.domain import ReferralPath
from loyalty.program.domain import DEFAULT_PROGRAM, ProgramRules
from loyalty.purchases.domain import Credit, credit_purchase, reverse_refund
from loyalty.shared.money import minor_units

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def test_the_contract_example_credits_129_12_6() -> None:
    path = ReferralPath(("carol", "bob", "alice"))
    credits = credit_purchase(DEFAULT_PROGRAM, "dan", path, 12900, NOW)
    assert [(c.member_id, c.level, c.points, c.bucket) for c in credits] == [
        ("dan", 0, 129, Bucket.PENDING), ("carol", 1, 12, Bucket.PENDING), ("bob", 2, 6, Bucket.PENDING)]
    assert {c.available_at for c in credits} == {"2026-11-30T09:00:00Z"}  # holds end on the hour


def test_base_points_use_the_currency_minor_units() -> None:
    yen = ProgramRules(1, 1, (), 0, "JPY")
    assert (minor_units("JPY"), yen.base_points(1299)) == (0, 1299)
    assert ProgramRules(1, 3, (), 0, "KWD").base_points(12999) == 36


def test_referral_paths_stop_at_ten_levels() -> None:
    path = ReferralPath()
    for n in range(15):
        path = ReferralPath.below(f"m{n}", path)
    assert len(path.ancestors) == 10 and path.ancestors[0] == "m14" and path.referrer_id == "m14"


def _reversed(credits: list[Credit], amount: int, refunds: list[int], at: datetime = NOW) -> dict[str, int]:
    total, refunded = {c.member_id: 0 for c in credits}, 0
    for n, refund in enumerate(refunds):
        for posting in reverse_refund(credits, amount, refunded, refund, "o", f"r{n}", at):
            total[posting.holder] -= posting.amount
        refunded += refund
    return total


# Worked by hand from API.md: after refunds totalling R of a purchase of A, a credit of c points has been
# reversed by floor(c × R / A) in total.
@pytest.mark.parametrize(("refunds", "expected"), [
    # 12,900 purchase: 129 / 12 / 6. Refund 4,300 (a third): 43, 4 (12 × 4300 / 12900 = 4), 2.
    ([4300], {"dan": 43, "carol": 4, "bob": 2}),
    # Then 4,300 more (R = 8,600): 86, 8, 4 in total; the second refund reverses 43, 4, 2.
    ([4300, 4300], {"dan": 86, "carol": 8, "bob": 4}),
    # One fen at a time three times (R = 3): floor(129 × 3 / 12900) = 0 for everybody.
    ([1, 1, 1], {"dan": 0, "carol": 0, "bob": 0}),
    # 12,899 (all but one fen): 128, 11 (floor(11.999…)), 5 (floor(5.999…)).
    ([12899], {"dan": 128, "carol": 11, "bob": 5}),
    # 12,899 then the last fen: everything, exactly.
    ([12899, 1], {"dan": 129, "carol": 12, "bob": 6}),
    # Seven refunds of 1,700 (R = 11,900): 119, 11, 5.
    ([1700] * 7, {"dan": 119, "carol": 11, "bob": 5}),
])
def test_refunds_reverse_worked_examples(refunds: list[int], expected: dict[str, int]) -> None:
    credits = credit_purchase(DEFAULT_PROGRAM, "dan", ReferralPath(("carol", "bob")), 12900, NOW)
    assert _reversed(credits, 12900, refunds) == expected


@given(amount=st.integers(1, 10**9), refunds=st.lists(st.integers(1, 10**8), max_size=8),
       rates=st.lists(st.integers(0, 10_000), max_size=10))
def test_partial_refunds_never_drift_and_a_full_refund_reverses_everything(amount: int, refunds: list[int],
                                                                           rates: list[int]) -> None:
    rules = ProgramRules(1, 7, tuple(rates), 7, "CNY")
    credits = credit_purchase(rules, "buyer", ReferralPath(tuple(f"a{n}" for n in range(10))), amount, NOW)
    applied, refunded = [], 0
    for refund in refunds:
        refund = min(refund, amount - refunded)
        if refund == 0:
            break
        applied.append(refund)
        refunded += refund
    total = _reversed(credits, amount, applied)
    for c in credits:
        assert 0 <= total[c.member_id] <= c.points
        assert total[c.member_id] * amount <= c.points * refunded < (total[c.member_id] + 1) * amount
    if refunded == amount:
        assert all(total[c.member_id] == c.points for c in credits)


def test_a_reversal_comes_out_of_the_bucket_the_points_are_in_now() -> None:
    credits = credit_purchase(DEFAULT_PROGRAM, "dan", ReferralPath(), 10000, NOW)
    held = reverse_refund(credits, 10000, 0, 5000, "o", "r1", NOW + timedelta(days=6))
    assert [(p.bucket, p.available_at) for p in held] == [(Bucket.PENDING, credits[0].available_at)]
    free = reverse_refund(credits, 10000, 0, 5000, "o", "r1", NOW + timedelta(days=7))
    assert [(p.bucket, p.available_at) for p in free] == [(Bucket.AVAILABLE, None)]


def test_a_refund_at_the_very_second_a_hold_ends_comes_out_of_available() -> None:
    """The hold ends at available_at: from that second the points are available (a read shows them so), and a
    refund takes them from there; one second earlier they are still held."""
    credits = credit_purchase(DEFAULT_PROGRAM, "dan", ReferralPath(), 10000, NOW)
    ends = datetime.fromisoformat(str(credits[0].available_at).replace("Z", "+00:00"))
    at_the_second = reverse_refund(credits, 10000, 0, 5000, "o", "r1", ends)
    just_before = reverse_refund(credits, 10000, 0, 5000, "o", "r1", ends - timedelta(seconds=1))
    assert [p.bucket for p in at_the_second] == [Bucket.AVAILABLE]
    assert [p.bucket for p in just_before] == [Bucket.PENDING]

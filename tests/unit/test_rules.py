"""Program rules, credits up the tree, pro-rata refunds, referral codes, claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.errors import Forbidden, Unauthorized
from loyalty.http.api import decode_cursor, encode_cursor
from loyalty.http.auth import caller_from_claims, parse_groups
from loyalty.ledger import Bucket
from loyalty.program import DEFAULT_PROGRAM, ProgramRules, minor_units
from loyalty.purchases import credit_purchase, reverse_refund
from loyalty.referrals import CODE_PATTERN, ReferralPath, new_referral_code, normalize_referral_code

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


@given(amount=st.integers(1, 10**9), refunds=st.lists(st.integers(1, 10**8), max_size=8),
       rates=st.lists(st.integers(0, 10_000), max_size=10))
def test_refunds_reverse_exactly_floor_c_times_r_over_a_in_total(amount: int, refunds: list[int],
                                                                 rates: list[int]) -> None:
    rules = ProgramRules(1, 7, tuple(rates), 7, "CNY")
    path = ReferralPath(tuple(f"a{n}" for n in range(10)))
    credits = credit_purchase(rules, "buyer", path, amount, NOW)
    reversed_total = {c.member_id: 0 for c in credits}
    refunded = 0
    for n, refund in enumerate(refunds):
        refund = min(refund, amount - refunded)
        if refund == 0:
            break
        for posting in reverse_refund(credits, amount, refunded, refund, "o", f"r{n}", NOW):
            reversed_total[posting.member_id] -= posting.amount
        refunded += refund
        for c in credits:
            assert reversed_total[c.member_id] == c.points * refunded // amount
    if refunded == amount:
        assert all(reversed_total[c.member_id] == c.points for c in credits)


def test_a_reversal_comes_out_of_the_bucket_the_points_are_in_now() -> None:
    credits = credit_purchase(DEFAULT_PROGRAM, "dan", ReferralPath(), 10000, NOW)
    held = reverse_refund(credits, 10000, 0, 5000, "o", "r1", NOW + timedelta(days=6))
    assert [(p.bucket, p.available_at) for p in held] == [(Bucket.PENDING, credits[0].available_at)]
    free = reverse_refund(credits, 10000, 0, 5000, "o", "r1", NOW + timedelta(days=7))
    assert [(p.bucket, p.available_at) for p in free] == [(Bucket.AVAILABLE, None)]


def test_referral_codes_are_random_unambiguous_and_normalized() -> None:
    codes = {new_referral_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(CODE_PATTERN.match(c) for c in codes)
    assert normalize_referral_code(" k7q2-m9xd ") == "K7Q2M9XD"
    assert normalize_referral_code("K7Q2M9X0") is None  # 0 is never in a code
    assert normalize_referral_code("short") is None


@pytest.mark.parametrize(("claim", "groups"), [
    ("[admin staff]", {"admin", "staff"}), ('["staff"]', {"staff"}), (["staff"], {"staff"}),
    ("staff,admin", {"staff", "admin"}), ("staff", {"staff"}), (None, set()), ("[]", set()),
])
def test_group_claims_in_every_shape_api_gateway_may_send(claim: object, groups: set[str]) -> None:
    assert parse_groups(claim) == groups


def test_callers() -> None:
    with pytest.raises(Unauthorized):
        caller_from_claims({})
    with pytest.raises(Forbidden):
        caller_from_claims({"sub": "has space"})
    admin = caller_from_claims({"sub": "boss", "cognito:groups": "[admin]"})
    assert admin.is_staff and admin.is_admin
    member = caller_from_claims({"sub": "dan"})
    member.require_self_or_staff("dan")
    with pytest.raises(Forbidden):
        member.require_self_or_staff("bob")


@given(st.integers(1, 10**12))
def test_cursors_round_trip(seq: int) -> None:
    assert decode_cursor(encode_cursor(seq)) == seq


@pytest.mark.parametrize("text", ["", "x", "c2VxOg", "c2VxOjAx", "c2VxOi0x", "bm9wZTox", "%%%",
                                  encode_cursor(2**63), encode_cursor(10**40 + 1)])
def test_foreign_cursors_are_refused(text: str) -> None:
    assert decode_cursor(text) is None

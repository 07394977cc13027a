"""The metrics' definitions: periods, what each event adds to its day, the rates' rounding."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from loyalty.metrics.domain import (
    BUNDLE_REFUNDED,
    BUNDLE_SOLD,
    BUNDLE_USED,
    BUNDLE_USES,
    MAX_DAYS,
    NEW_MEMBERS,
    POINTS_ISSUED,
    POINTS_REDEEMED,
    PURCHASES,
    REFERRED_REVENUE,
    REVENUE,
    SV_BONUS,
    SV_BONUS_GIVEN,
    SV_FORFEITED,
    SV_PAID,
    SV_PRINCIPAL,
    SV_REFUNDED,
    SV_TOPPED_UP,
    SV_WITHDRAWN,
    Period,
    Totals,
    joined,
    local_day,
    metrics_of,
    period_of,
    posted,
    purchased,
    refunded,
    share_bps,
    summed,
)
from loyalty.shared.errors import ValidationProblem

SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 11, 23)


def test_a_day_is_the_local_date_in_the_programmes_time_zone() -> None:
    assert local_day("2026-11-23T15:59:59Z", SHANGHAI) == "2026-11-23"
    assert local_day("2026-11-23T16:00:00Z", SHANGHAI) == "2026-11-24"  # midnight in Shanghai
    assert local_day("2026-11-23T16:00:00Z", ZoneInfo("UTC")) == "2026-11-23"


def test_a_period_defaults_to_the_30_days_ending_today_and_either_end_may_be_given() -> None:
    assert period_of(None, None, TODAY) == Period(date(2026, 10, 25), TODAY)
    assert period_of("2026-11-01", None, TODAY) == Period(date(2026, 11, 1), TODAY)
    assert period_of(None, "2026-01-31", TODAY) == Period(date(2026, 1, 2), date(2026, 1, 31))
    assert period_of("2026-11-23", "2026-11-23", TODAY).days == ["2026-11-23"]
    assert period_of("2027-01-05", None, TODAY) == Period(date(2027, 1, 5), date(2027, 1, 5))  # from in the future
    assert len(period_of("2025-11-23", "2026-11-23", TODAY).days) == MAX_DAYS


@pytest.mark.parametrize(("first", "last", "where"), [
    ("2026-11-02", "2026-11-01", "from"),  # from after to
    ("2025-11-22", "2026-11-23", "to"),  # 367 days
    ("2026-13-01", None, "from"), ("2026-02-30", None, "from"), ("20261101", None, "from"), ("2026-1-01", None, "from"),
    (None, "tomorrow", "to"), (None, "2026-11-01T00:00", "to"), ("", None, "from"),
])
def test_a_period_that_is_no_period_is_refused_naming_the_parameter(first: str | None, last: str | None,
                                                                     where: str) -> None:
    with pytest.raises(ValidationProblem) as refused:
        period_of(first, last, TODAY)
    assert refused.value.status == 422
    assert refused.value.errors == [{"loc": ["query", where], "msg": refused.value.detail}]


def test_the_first_days_of_the_calendar_do_not_underflow() -> None:
    assert period_of(None, "0001-01-05", TODAY) == Period(date(1, 1, 1), date(1, 1, 5))


def test_rates_are_whole_basis_points_rounded_down_within_0_and_10000() -> None:
    assert share_bps(1, 3) == 3333 and share_bps(2, 3) == 6666 and share_bps(3, 3) == 10_000
    assert share_bps(0, 0) == 0 and share_bps(5, 0) == 0 and share_bps(5, -10) == 0
    assert share_bps(-1, 10) == 0 and share_bps(11, 10) == 10_000  # only while the totals catch up


def test_what_each_event_adds_to_its_day() -> None:
    assert joined("dan", "2026-11-23T17:00:00Z", SHANGHAI).counts == {NEW_MEMBERS: 1}
    bought = purchased("O-1", "dan", 12900, "2026-11-23T17:00:00Z", True, SHANGHAI)
    assert (bought.fact_id, bought.day, bought.buyer) == ("purchase/O-1", "2026-11-24", "dan")
    assert bought.counts == {PURCHASES: 1, REVENUE: 12900, REFERRED_REVENUE: 12900}
    assert purchased("O-2", "bob", 500, "2026-11-23T01:00:00Z", False, SHANGHAI).counts[REFERRED_REVENUE] == 0
    refund = refunded("O-1", "R-1", 2100, "2026-11-23T17:00:00Z", True, SHANGHAI)  # on the purchase's day
    assert (refund.fact_id, refund.day, refund.buyer) == ("refund/O-1/R-1", "2026-11-24", None)
    assert refund.counts == {REVENUE: -2100, REFERRED_REVENUE: -2100}


@pytest.mark.parametrize(("kind", "amount", "issued", "redeemed"), [
    ("purchase", 129, 129, 0), ("referral", 12, 12, 0), ("refund", -21, -21, 0), ("adjustment", -50, -50, 0),
    ("adjustment", 5, 5, 0), ("redemption", -100, 0, 100), ("release", 129, 0, 0), ("release", -129, 0, 0),
])
def test_points_issued_are_the_earned_kinds_net_and_redeemed_are_redemptions(kind: str, amount: int, issued: int,
                                                                              redeemed: int) -> None:
    fact = posted("dan", 4, "points", kind, amount, "2026-11-23T09:30:00Z", SHANGHAI)
    assert fact is not None and fact.fact_id == "entry/dan/4"
    assert (fact.counts[POINTS_ISSUED], fact.counts[POINTS_REDEEMED]) == (issued, redeemed)


@pytest.mark.parametrize(("kind", "amount", "counts"), [
    ("bundle_sale", 6, {BUNDLE_USES: 6, BUNDLE_SOLD: 6}),
    ("bundle_use", -1, {BUNDLE_USES: -1, BUNDLE_USED: 1}),
    ("refund", -5, {BUNDLE_USES: -5, BUNDLE_REFUNDED: 5}),
])
def test_bundle_card_entries_count_the_uses_outstanding_and_what_moved_them(kind: str, amount: int,
                                                                            counts: dict[str, int]) -> None:
    fact = posted("dan", 4, "bundle:bc_1", kind, amount, "2026-11-23T09:30:00Z", SHANGHAI, "available")
    assert fact is not None and fact.counts == counts


@pytest.mark.parametrize(("kind", "bucket", "amount", "counts"), [
    ("top_up", "principal", 300000, {SV_PRINCIPAL: 300000, SV_TOPPED_UP: 300000}),
    ("top_up", "bonus", 9000, {SV_BONUS: 9000, SV_BONUS_GIVEN: 9000}),
    ("payment", "principal", -9709, {SV_PRINCIPAL: -9709, SV_PAID: 9709}),
    ("payment", "bonus", -291, {SV_BONUS: -291, SV_PAID: 291}),
    ("refund", "bonus", 194, {SV_BONUS: 194, SV_REFUNDED: 194}),
    ("withdrawal", "principal", -5000, {SV_PRINCIPAL: -5000, SV_WITHDRAWN: 5000}),
    ("withdrawal", "bonus", -300, {SV_BONUS: -300, SV_FORFEITED: 300}),
])
def test_stored_value_entries_count_by_bucket_and_kind(kind: str, bucket: str, amount: int,
                                                        counts: dict[str, int]) -> None:
    fact = posted("dan", 4, "stored_value", kind, amount, "2026-11-23T09:30:00Z", SHANGHAI, bucket)
    assert fact is not None and fact.counts == counts


def test_facts_add_up_by_day_month_and_year_leaving_zeros_out() -> None:
    release = posted("dan", 2, "points", "release", 1, "2026-12-01T01:00:00Z", SHANGHAI)
    assert release is not None
    facts = [purchased("O-1", "dan", 100, "2026-11-23T01:00:00Z", False, SHANGHAI),
             purchased("O-2", "bob", 50, "2026-11-30T01:00:00Z", True, SHANGHAI), release]
    assert summed(facts, "day") == {"2026-11-23": {PURCHASES: 1, REVENUE: 100},
                                    "2026-11-30": {PURCHASES: 1, REVENUE: 50, REFERRED_REVENUE: 50}}
    assert summed(facts, "month") == {"2026-11": {PURCHASES: 2, REVENUE: 150, REFERRED_REVENUE: 50}}
    assert summed(facts, "year") == {"2026": {PURCHASES: 2, REVENUE: 150, REFERRED_REVENUE: 50}}


def test_a_repeat_buyer_bought_before_the_period_or_more_than_once_in_it() -> None:
    period = Period(date(2026, 11, 1), date(2026, 11, 3))
    days = {"2026-11-01": {PURCHASES: 3, REVENUE: 300, REFERRED_REVENUE: 100, NEW_MEMBERS: 2},
            "2026-11-03": {PURCHASES: 1, REVENUE: 100, POINTS_ISSUED: 40, POINTS_REDEEMED: 10}}
    buyers = {"old": 1, "twice": 2, "new": 1}  # old bought before; twice twice in it; new once, first time
    shown = metrics_of(period, days, Totals({NEW_MEMBERS: 9, POINTS_ISSUED: 500, POINTS_REDEEMED: 120}), buyers,
                       {"twice", "new"}, "Asia/Shanghai")
    assert shown.repeat_purchase_rate_bps == 6666  # 2 of 3, rounded down
    assert shown.referred_revenue_share_bps == 2500
    assert (shown.members.total, shown.members.new) == (9, 2)
    assert (shown.purchases.count, shown.purchases.buyers, shown.purchases.revenue_minor) == (4, 3, 400)
    assert (shown.points.issued, shown.points.redeemed, shown.points.outstanding) == (40, 10, 380)
    assert [(d.date, d.purchases, d.revenue_minor, d.new_members) for d in shown.by_day] == [
        ("2026-11-01", 3, 300, 2), ("2026-11-02", 0, 0, 0), ("2026-11-03", 1, 100, 0)]

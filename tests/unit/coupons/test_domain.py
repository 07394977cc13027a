"""Coupons' pure rules: the discount in integers, codes, the void window, expiry at read time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loyalty.coupons.domain import (
    CODE_ALPHABET,
    CODE_LENGTH,
    Coupon,
    Template,
    new_code,
    normalize_code,
    within_void_window,
)
from loyalty.shared.errors import ValidationProblem

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def template(**terms: int | None) -> Template:
    fields: dict[str, int | None] = {"amount_off_minor": None, "percent_off_bps": None, "max_off_minor": None}
    fields.update(terms)
    return Template("t", "T", min_spend_minor=0, valid_days=30, per_member_limit=None, issue_on=None, **fields)


@pytest.mark.parametrize(("terms", "subtotal", "discount"), [
    ({"amount_off_minor": 2000}, 12900, 2000),
    ({"amount_off_minor": 2000}, 1500, 1500),  # never above the subtotal
    ({"percent_off_bps": 1000}, 12345, 1234),  # floor
    ({"percent_off_bps": 1000, "max_off_minor": 5000}, 900_000, 5000),  # capped
    ({"percent_off_bps": 10_000}, 777, 777),
    ({"percent_off_bps": 1}, 9999, 0),
])
def test_the_discount_is_an_integer_floored_capped_and_never_above_the_subtotal(
        terms: dict[str, int], subtotal: int, discount: int) -> None:
    assert template(**terms).discount(subtotal) == discount


@pytest.mark.parametrize("terms", [{}, {"amount_off_minor": 1, "percent_off_bps": 1},
                                   {"amount_off_minor": 1, "max_off_minor": 1}])
def test_a_template_names_exactly_one_kind_of_discount(terms: dict[str, int]) -> None:
    with pytest.raises(ValidationProblem):
        template(**terms)


def test_codes_are_long_enough_and_read_in_any_case() -> None:
    codes = {new_code() for _ in range(1000)}
    assert len(codes) == 1000 and all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    code = next(iter(codes))
    assert normalize_code(f" {code[:4].lower()}-{code[4:]} ") == code
    assert normalize_code("0OIL1U0OIL1U0") is None and normalize_code(code[:-1]) is None


def test_the_void_window_is_fifteen_minutes_inclusive() -> None:
    assert within_void_window("2026-11-23T09:30:00Z", NOW + timedelta(minutes=15))
    assert not within_void_window("2026-11-23T09:30:00Z", NOW + timedelta(minutes=15, seconds=1))


def test_expiry_is_read_at_the_moment_and_a_used_coupon_stays_used() -> None:
    coupon = Coupon("cpn_1", "X", "t", "ann", "active", "2026-11-23T09:30:00Z", "2026-11-24T09:30:00Z")
    assert coupon.status_at(NOW) == "active"
    assert coupon.status_at(NOW + timedelta(days=1)) == "expired"
    used = Coupon("cpn_1", "X", "t", "ann", "used", "2026-11-23T09:30:00Z", "2026-11-24T09:30:00Z", NOW.isoformat())
    assert used.status_at(NOW + timedelta(days=9)) == "used"

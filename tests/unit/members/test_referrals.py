"""Referral codes (pure domain)."""

from __future__ import annotations

from loyalty.members.domain import CODE_PATTERN, new_referral_code, normalize_referral_code


def test_referral_codes_are_random_unambiguous_and_normalized() -> None:
    codes = {new_referral_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(CODE_PATTERN.match(c) for c in codes)
    assert normalize_referral_code(" k7q2-m9xd ") == "K7Q2M9XD"
    assert normalize_referral_code("K7Q2M9X0") is None  # 0 is never in a code
    assert normalize_referral_code("short") is None

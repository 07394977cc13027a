"""Stored value's money rules as pure functions (docs/wallet.md): tiers, the bonus share, refunds' parts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.shared.errors import ValidationProblem
from loyalty.wallet.domain import (
    DEFAULT_SETTINGS,
    InsufficientFunds,
    Parts,
    Tier,
    WalletSettings,
    given_back,
    payment_split,
)


@pytest.mark.parametrize(("amount", "bonus"), [(0, 0), (199_999, 0), (200_000, 2_000), (299_999, 2_999),
                                               (300_000, 9_000), (499_999, 14_999), (500_000, 25_000),
                                               (10**9, 5 * 10**7)])
def test_the_default_tiers(amount: int, bonus: int) -> None:
    assert DEFAULT_SETTINGS.bonus(amount) == bonus


def test_settings_are_kept_highest_tier_first_and_round_trip() -> None:
    settings = WalletSettings((Tier(100, 10), Tier(1000, 100)), 5000)
    assert [t.min_minor for t in settings.top_up_bonus] == [1000, 100]
    assert WalletSettings.from_dict(settings.to_dict()) == settings


@pytest.mark.parametrize("tiers", [(Tier(100, 10), Tier(100, 20)), (Tier(100, 10_001),), (Tier(100, -1),),
                                   (Tier(0, 10),)])
def test_bad_tiers_are_refused(tiers: tuple[Tier, ...]) -> None:
    with pytest.raises(ValidationProblem):
        WalletSettings(tiers, 500_000)


def test_the_bonus_share_is_rounded_down() -> None:
    assert payment_split(10_000, Parts(300_000, 9_000)) == Parts(9_709, 291)
    assert payment_split(1, Parts(1, 1)) == Parts(1, 0)
    assert payment_split(2, Parts(1, 1)) == Parts(1, 1)
    with pytest.raises(InsufficientFunds):
        payment_split(3, Parts(1, 1))
    with pytest.raises(InsufficientFunds):
        payment_split(1, Parts())


@given(st.integers(0, 10**9), st.integers(0, 10**9), st.integers(1, 10**9))
def test_a_payment_never_takes_more_of_a_part_than_is_held(principal: int, bonus: int, paid: int) -> None:
    holding = Parts(principal, bonus)
    if paid > holding.total:
        with pytest.raises(InsufficientFunds):
            payment_split(paid, holding)
        return
    split = payment_split(paid, holding)
    assert split.total == paid
    assert 0 <= split.principal_minor <= principal and 0 <= split.bonus_minor <= bonus


@given(st.integers(0, 10**7), st.integers(0, 10**7), st.integers(1, 10**7), st.lists(st.integers(1, 1000), max_size=6))
def test_refunds_give_back_floor_of_each_part_in_total_and_all_of_it_at_the_end(
        principal: int, bonus: int, amount: int, shares: list[int]) -> None:
    paid, refunded, back = Parts(principal, bonus), 0, Parts()
    for share in shares:
        refund = max(1, (amount - refunded) * share // 1000)
        if refunded + refund > amount:
            break
        step = given_back(paid, amount, refunded, refund)
        refunded += refund
        back = Parts(back.principal_minor + step.principal_minor, back.bonus_minor + step.bonus_minor)
        assert back == Parts(principal * refunded // amount, bonus * refunded // amount)
    rest = given_back(paid, amount, refunded, amount - refunded)
    assert (back.principal_minor + rest.principal_minor, back.bonus_minor + rest.bonus_minor) == (principal, bonus)

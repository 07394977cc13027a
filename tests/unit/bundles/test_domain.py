"""Bundle cards' rules, alone (docs/wallet.md, "Bundle cards"): the card id a sale derives, the expiry instant and
its second, and the refund's floor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from loyalty.bundles.domain import Card, card_id_of, card_of_asset, expiry
from loyalty.http import examples
from loyalty.ledger.accounts import Account, Balance

SOLD = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def card(price_minor: int = 28_800, uses: int = 6) -> Card:
    return Card(card_id_of("S-1"), "WASH-6", "6 car washes", uses, price_minor, "bob", "S-1",
                "2026-11-23T09:30:00Z", "2027-11-23T09:30:00Z")


def test_the_card_id_is_derived_from_the_sale_and_the_documented_example_is_the_example_sales() -> None:
    assert card_id_of("S-1") == card_id_of("S-1") != card_id_of("S-2")
    assert card_id_of(examples.BUNDLE_SALE_ID) == examples.BUNDLE_CARD_ID
    assert card_of_asset(f"bundle:{examples.BUNDLE_CARD_ID}") == examples.BUNDLE_CARD_ID
    assert card_of_asset("points") is None and card_of_asset("bundle:") is None


def test_a_card_expires_at_the_instant_valid_days_after_its_sale_that_second_included() -> None:
    assert expiry(SOLD, 365) == datetime(2027, 11, 23, 9, 30, tzinfo=UTC)
    found = card()
    assert not found.expired(datetime(2027, 11, 23, 9, 29, 59, tzinfo=UTC))
    assert found.expired(datetime(2027, 11, 23, 9, 30, tzinfo=UTC))
    assert found.expired(datetime(2027, 11, 23, 9, 30, tzinfo=UTC) + timedelta(days=1))


def test_a_refund_is_the_floor_of_the_unused_share_of_the_price() -> None:
    assert card().refund_minor(4) == 19_200
    assert card(10_001, 3).refund_minor(2) == 6_667  # 6667.33…
    assert card(1, 6).refund_minor(5) == 0
    assert card(10_001, 3).refund_minor(3) == 10_001  # all of it: never more than was paid


def test_what_is_left_is_the_cards_balance_on_its_holders_chain() -> None:
    found = card()
    assert found.remaining(Account("bob")) == 0
    assert found.remaining(Account("bob", balances={found.asset: Balance({"available": 4})})) == 4

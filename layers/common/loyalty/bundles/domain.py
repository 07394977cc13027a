"""Bundle cards (套餐卡): a product of so many uses sold at a price, valid for so many days (docs/wallet.md).

A sale is a purchase of the product's price (points, referral credits, commission, reminders) that also puts the
card's uses on the buyer's chain, as the asset ``bundle:<card_id>`` (bucket ``available``, never below zero). Each use
takes one; a refund takes the unused uses back and refunds ``floor(price × remaining / uses)`` of the sale's purchase.
The card's own item keeps what it was sold as (the product's terms then); what is left on it is always its ledger
balance, never a number kept beside it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from loyalty.ledger.accounts import Account
from loyalty.ledger.assets import BUNDLE, Bucket
from loyalty.shared.clock import parse_rfc3339
from loyalty.shared.errors import LoyaltyError


class BundleUsedUp(LoyaltyError):
    slug, status, title = "bundle-used-up", 409, "No uses left on this bundle card"


class BundleExpired(LoyaltyError):
    slug, status, title = "bundle-expired", 409, "This bundle card has expired"


@dataclass(frozen=True)
class Product:
    """What the shop sells as a bundle: ``uses`` for ``price_minor``, valid ``valid_days`` from the sale."""

    product_id: str
    name: str
    uses: int
    price_minor: int
    valid_days: int
    updated_at: str


@dataclass(frozen=True)
class Card:
    """One sold card: the product's terms at the sale, whose card it is, and when it stops taking uses."""

    card_id: str
    product_id: str
    name: str
    uses: int
    price_minor: int
    member_id: str
    sale_id: str
    sold_at: str
    expires_at: str

    @property
    def asset(self) -> str:
        return asset_of(self.card_id)

    def remaining(self, account: Account) -> int:
        """The uses left: the card's balance on its holder's chain."""
        return account.balance(self.asset)[Bucket.AVAILABLE]

    def expired(self, now: datetime) -> bool:
        """From ``expires_at`` on (that very second included) the card takes no use."""
        return now >= parse_rfc3339(self.expires_at)

    def refund_minor(self, remaining: int) -> int:
        """What the unused uses are worth: ``floor(price × remaining / uses)`` (never more than was paid)."""
        return self.price_minor * remaining // self.uses


def card_id_of(sale_id: str) -> str:
    """The card a sale makes, derived from the sale: a retried sale can only ever name the same card."""
    return "bc_" + hashlib.sha256(f"bundle-sale/{sale_id}".encode()).hexdigest()[:20]


def asset_of(card_id: str) -> str:
    return f"{BUNDLE.name}:{card_id}"


def card_of_asset(name: str) -> str | None:
    family, _, card_id = name.partition(":")
    return card_id if family == BUNDLE.name and card_id else None


def expiry(sold: datetime, valid_days: int) -> datetime:
    """A card sold at ``sold`` takes uses until ``valid_days`` × 24 hours later, to the second (docs/wallet.md)."""
    return sold + timedelta(days=valid_days)


@dataclass(frozen=True)
class SaleRecorded:
    card_id: str
    product_id: str
    remaining: int
    expires_at: str
    price_minor: int


@dataclass(frozen=True)
class UseRecorded:
    card_id: str
    remaining: int


@dataclass(frozen=True)
class BundleRefunded:
    refund_id: str
    uses_refunded: int
    amount_minor: int


@dataclass(frozen=True)
class CardView:
    """A card as staff and its holder see it: its terms and what is left now."""

    card: Card
    remaining: int

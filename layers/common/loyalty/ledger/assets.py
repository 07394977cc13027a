"""What each asset on the ledger allows, declared once.

An asset is a kind of balance a holder keeps on its chain: points, stored value, the uses left on a
bundle card, a partner's commission. ``post`` and ``verify`` read these declarations and nothing else
about an asset, so a new asset is a declaration here, not an edit of the posting code:

- its **buckets** (points are ``pending`` or ``available``; stored value is ``principal`` or ``bonus``);
- which buckets **may go below zero** (points spent and then refunded take ``available`` below zero;
  money never goes below zero);
- whether it has a **hold**: amounts in the held bucket wait in lots keyed by the instant they become
  free, count as free on every read from that instant, and move with the holder's next write (a
  ``release`` pair of entries);
- whether it counts as **earned** (``lifetime_earned``: every entry but the kinds named), and whether
  its referral credits are **tallied** (points from referrals: entries at level 1 or deeper);
- whether it is a **family** of assets, one per instrument (``bundle:<card_id>``: each card its own
  balance of uses);
- which bucket **expires** under the programme's expiry rule: what arrives there gets a date and is spent oldest
  first (``ledger.expiry``: dated lots of the free bucket beside the hold's lots).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class EntryKind(StrEnum):
    """What made an entry (the API's ``kind``)."""

    PURCHASE = "purchase"
    REFERRAL = "referral"
    RELEASE = "release"
    REFUND = "refund"
    REDEMPTION = "redemption"
    ADJUSTMENT = "adjustment"
    ACTION = "action"
    BONUS = "bonus"
    EXPIRY = "expiry"
    TOP_UP = "top_up"
    PAYMENT = "payment"
    WITHDRAWAL = "withdrawal"
    BUNDLE_SALE = "bundle_sale"
    BUNDLE_USE = "bundle_use"
    COMMISSION = "commission"
    PAYOUT = "payout"
    IMPORT = "import"


class Bucket(StrEnum):
    """Every bucket any asset has (the API's ``bucket``)."""

    PENDING = "pending"
    AVAILABLE = "available"
    PRINCIPAL = "principal"
    BONUS = "bonus"


class Unit(StrEnum):
    POINTS = "points"
    MINOR = "minor"  # minor units of the programme's currency
    USES = "uses"


@dataclass(frozen=True)
class Hold:
    """Amounts in ``bucket`` wait in lots until their instant, then count in ``releases_to``."""

    bucket: Bucket
    releases_to: Bucket


@dataclass(frozen=True)
class Asset:
    name: str
    unit: Unit
    buckets: tuple[Bucket, ...]
    may_go_below_zero: frozenset[Bucket] = frozenset()
    hold: Hold | None = None
    earned: bool = False  # whether the asset keeps lifetime_earned …
    not_earned: frozenset[EntryKind] = frozenset()  # … over every entry but these kinds
    tallies_referrals: bool = False  # whether it keeps the sum of entries at level >= 1
    family: bool = False  # "<name>:<instrument id>", one balance per instrument
    expires: Bucket | None = None  # the bucket whose arrivals the expiry rule dates (ledger.expiry)

    def __post_init__(self) -> None:
        if self.hold is not None and not {self.hold.bucket, self.hold.releases_to} <= set(self.buckets):
            raise ValueError(f"{self.name}: the hold names a bucket the asset does not have")
        if self.expires is not None and self.expires not in self.buckets:
            raise ValueError(f"{self.name}: what expires is a bucket the asset does not have")


POINTS = Asset(
    "points", Unit.POINTS, (Bucket.PENDING, Bucket.AVAILABLE),
    may_go_below_zero=frozenset({Bucket.AVAILABLE}),
    hold=Hold(Bucket.PENDING, Bucket.AVAILABLE),
    earned=True, not_earned=frozenset({EntryKind.REDEMPTION, EntryKind.RELEASE, EntryKind.EXPIRY}),
    tallies_referrals=True, expires=Bucket.AVAILABLE,
)
STORED_VALUE = Asset("stored_value", Unit.MINOR, (Bucket.PRINCIPAL, Bucket.BONUS))
BUNDLE = Asset("bundle", Unit.USES, (Bucket.AVAILABLE,), family=True)
COMMISSION = Asset(
    "commission", Unit.MINOR, (Bucket.PENDING, Bucket.AVAILABLE),
    may_go_below_zero=frozenset({Bucket.AVAILABLE}),
    hold=Hold(Bucket.PENDING, Bucket.AVAILABLE),
    earned=True, not_earned=frozenset({EntryKind.PAYOUT, EntryKind.RELEASE}),
)


@dataclass(frozen=True)
class Registry:
    assets: dict[str, Asset] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Asset:
        """The declaration of an asset by the name entries carry (``bundle:C-1`` is a ``bundle``)."""
        family, _, instrument = name.partition(":")
        found = self.assets.get(family)
        if found is None or found.family != bool(instrument):
            raise KeyError(name)
        return found

    def __contains__(self, name: object) -> bool:
        try:
            self[str(name)]
        except KeyError:
            return False
        return True


ASSETS = Registry({a.name: a for a in (POINTS, STORED_VALUE, BUNDLE, COMMISSION)})


def asset(name: str) -> Asset:
    """The declaration for an asset name; ``KeyError`` for a name no asset has."""
    return ASSETS[name]

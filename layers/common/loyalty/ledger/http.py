"""The ledger's HTTP models: entries, pages of them, a verification report, a member's balances."""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import Field

from loyalty.http import examples
from loyalty.http.types import Answer, Timestamp
from loyalty.ledger import entries
from loyalty.ledger.accounts import BalanceView
from loyalty.ledger.assets import POINTS, STORED_VALUE, Bucket, EntryKind
from loyalty.ledger.verification import ChainReport
from loyalty.shared.errors import ValidationProblem

if TYPE_CHECKING:
    from loyalty.ledger.usecases import LedgerService

AssetName = Annotated[str, Field(pattern=r"^(points|stored_value|commission|bundle:[A-Za-z0-9._:-]+)$",
                                 description="points, stored_value, commission, or bundle:<card_id>",
                                 examples=["points"])]
Hash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256, hex",
                            examples=["9f2c4e0b7d1a3c5e8f6b2d4a0c9e7f1b3d5a8c2e4f6b0d9a7c1e3f5b8d2a4c6e"])]


class EntrySource(Answer):
    type: str = Field(examples=["purchase"])
    id: str = Field(examples=["POS-2026-000123"])


class Entry(Answer):
    entry_id: str = Field(examples=["purchase/POS-2026-000123/4f2c1e8a-9b3d-4c7e-a1f0-6d5b2e9c8a41"])
    member_id: str
    seq: int = Field(ge=1, description="1, 2, 3 … per member, no gaps")
    asset: AssetName
    amount: int
    bucket: Bucket
    kind: EntryKind
    level: int | None = Field(description="0 the buyer, 1 the buyer's referrer, …; null where no purchase is behind")
    source: EntrySource
    rule_version: int | None
    created_at: Timestamp
    available_at: Timestamp | None
    prev_hash: Hash
    hash: Hash
    parts: list[tuple[str, int]] | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="Only on an entry the poster wrote for several events at once (source type `batch`): each "
                    "event's source (`purchase/<order_id>`, `refund/<order_id>/<refund_id>`) and amount, which add "
                    "up to `amount`. The hash covers it; absent from every other entry.")
    review: str | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="Only on a credit held for review, a reversal of it, and the line of the review's decision that "
                    "empties its lot (docs/screening.md): the review's id. The hash covers it; absent from every "
                    "other entry.")
    rule: str | None = Field(
        default=None, exclude_if=lambda value: value is None, examples=["calendar:Spring Festival"],
        description="Only on an entry a rule of the earning programme made (docs/earning.md): `calendar:<name>`, "
                    "`tier:<tier>` or `status:<status>` for a buyer's multiplied points, `action:<action>` for "
                    "an action's. The hash covers it; absent from every other entry.")
    multiplier_bps: int | None = Field(
        default=None, exclude_if=lambda value: value is None, examples=[20000],
        description="Only on a buyer's points earned under a multiplier: its basis points (the points are "
                    "floor(base × multiplier_bps / 10000)). The hash covers it.")
    expires: list[tuple[Timestamp, int]] | None = Field(
        default=None, exclude_if=lambda value: value is None, examples=[[["2027-03-31T16:00:00Z", 20]]],
        description="Only on points that arrive in `available` under an expiry rule: when they expire (the end of "
                    "the local day, as an instant) and how many; on a `kind` `expiry` entry: the dated lots it ends "
                    "(docs/earning-expiry.md). The hash covers it; absent from every other entry.")

    @classmethod
    def of(cls, entry: entries.Entry) -> Entry:
        """Exactly what the entry's hash covers, and the hash (docs/ledger.md)."""
        return cls.model_validate(entry.body())


class LedgerPage(Answer):
    items: list[Entry]
    next_cursor: str | None = Field(description="Pass as cursor for the next (older) page; null on the last")


class LedgerVerification(Answer):
    member_id: str
    entries: int
    chain_valid: bool
    balances_match: bool
    head_hash: str
    first_invalid_seq: int | None = Field(description="The first seq where the chain is not intact, or null")
    problems: list[str]

    @classmethod
    def of(cls, report: ChainReport) -> LedgerVerification:
        return cls(member_id=report.holder, entries=report.entries, chain_valid=report.chain_valid,
                   balances_match=report.balances_match, head_hash=report.head_hash,
                   first_invalid_seq=report.first_invalid_seq, problems=report.problems)


class Expiring(Answer):
    points: int = Field(examples=[20])
    on: dt.date = Field(description="They expire at the end of this local day, in the programme's time zone",
                        examples=["2027-03-31"])


class PointsBalance(Answer):
    available: int = Field(description="Spendable now; counts pending points whose hold has ended, not points past "
                                       "their expiry")
    pending: int
    lifetime_earned: int
    expiring: list[Expiring] = Field(description=(
        "The available points that will expire, by the day they expire, soonest first (docs/earning-expiry.md); "
        "spending takes the oldest points first"))
    queued: int | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="On a member read: referral points other members' purchases (less their refunds) have queued "
                    "for this member that the poster has not posted yet, usually for a second or two; not part of "
                    "available or pending, and not yet in the ledger")


class StoredValueBalance(Answer):
    principal_minor: int = Field(description="What the member paid in and may withdraw, minor units", examples=[480000])
    bonus_minor: int = Field(description="What top-up tiers added: spent in proportion, forfeited on withdrawal",
                             examples=[24000])
    currency: str = Field(description="The programme's currency", examples=["CNY"])


class BundleBalance(Answer):
    """A bundle card with uses left (docs/wallet.md): expired ones too, whose unused uses can still be refunded."""

    card_id: str
    product_id: str
    name: str
    remaining: int
    uses: int = Field(ge=1, description="The uses the card was sold with (the till shows `remaining` of them)",
                      examples=[6])
    price_minor: int = Field(ge=0, description="What the card was sold for: a refund of the unused uses gives back "
                                               "floor(price_minor × remaining / uses)", examples=[28800])
    expires_at: Timestamp

    @classmethod
    def of(cls, result: Any) -> BundleBalance:
        card = result.card
        return cls(card_id=card.card_id, product_id=card.product_id, name=card.name, remaining=result.remaining,
                   uses=card.uses, price_minor=card.price_minor, expires_at=card.expires_at)


class Balances(Answer):
    points: PointsBalance
    stored_value: StoredValueBalance | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="Only for a member who has ever topped up (docs/wallet.md)")
    bundles: list[BundleBalance] | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="On a member read: the bundle cards with uses left, oldest sale first")

    @classmethod
    def of(cls, views: Mapping[str, BalanceView], currency: str | None = None,
           bundles: Sequence[Any] | None = None) -> Balances:
        """The balances, and what the member's queue holds where it was looked up (member reads); stored value where
        the views have it (with the programme's ``currency``); ``bundles``: the cards a member read shows."""
        points = views[POINTS.name]
        stored = views.get(STORED_VALUE.name)
        return cls(points=PointsBalance(available=points[Bucket.AVAILABLE], pending=points[Bucket.PENDING],
                                        lifetime_earned=points.earned, queued=points.queued,
                                        expiring=[Expiring(points=amount, on=day)
                                                  for amount, day in points.expiring_on()]),
                   stored_value=StoredValueBalance(principal_minor=stored[Bucket.PRINCIPAL],
                                                   bonus_minor=stored[Bucket.BONUS], currency=currency or "")
                   if stored is not None else None,
                   bundles=[BundleBalance.of(b) for b in bundles] if bundles is not None else None)


MAX_SEQ = 2**63 - 1  # a cursor past any seq DynamoDB can store is not one this service issued


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The seq a cursor points below, or None if the text is not a cursor this service issued."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        seq = int(number)
    except (ValueError, UnicodeDecodeError):
        return None
    return seq if prefix == "seq" and 0 < seq <= MAX_SEQ and number == str(seq) else None


Limit = Annotated[int, Query(ge=1, le=100, description="Entries per page",
                             openapi_examples=examples.shown(examples.LEDGER_PAGE_SIZE, "A page of 20"))]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page",
                                     openapi_examples=examples.shown(encode_cursor(41), "Older than entry 41"))]


def ledger_page(ledger: LedgerService, holder: str, limit: int, cursor: str | None) -> LedgerPage:
    """A page of a holder's chain (a member's, a partner's), newest first, below the cursor; a cursor this service
    did not issue is a ``422``."""
    before = None
    if cursor is not None:
        before = decode_cursor(cursor)
        if before is None:
            raise ValidationProblem("cursor is not one this service issued", loc=["query", "cursor"])
    page = ledger.page(holder, limit=limit, before_seq=before)
    return LedgerPage(items=[Entry.of(e) for e in page.entries],
                      next_cursor=encode_cursor(page.entries[-1].seq) if page.has_more else None)

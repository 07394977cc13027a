"""Purchases credit points up the referral tree; refunds reverse those credits pro rata.

A purchase remembers the credits it made (member, level, points, rule version, where the points were
put). A refund never looks at today's rules: after refunds totalling R of a purchase of A, each credit c
has been reversed by exactly ``floor(c.points * R / A)`` in total, so partial refunds never drift and a
full refund reverses every credit exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from loyalty.ledger.assets import COMMISSION, POINTS, Bucket, EntryKind
from loyalty.ledger.entries import Source
from loyalty.ledger.posting import Posting
from loyalty.members.domain import PartnerBinding, ReferralPath, partner_of_holder
from loyalty.program.domain import Applied, ProgramRules
from loyalty.screening.domain import PARTNER_KEY, Verdict
from loyalty.screening.review import Review, review_id_of
from loyalty.shared.clock import parse_rfc3339, start_of_hour, to_rfc3339
from loyalty.shared.errors import LoyaltyError

# How far in the future a point-of-sale clock may be before a purchase time is refused.
MAX_CLOCK_SKEW = timedelta(minutes=5)


class RefundExceedsPurchase(LoyaltyError):
    slug, status, title = "refund-exceeds-purchase", 422, "Refunds would exceed the purchase"


POSTED, QUEUED = "posted", "queued"


@dataclass(frozen=True)
class Credit:
    """What one purchase gave one holder: points to a member (``posted`` with the purchase, the buyer's own; or
    ``queued`` for the poster, every referrer's: ``ledger.deferred``), or a partner's commission (``asset``
    ``commission``, in minor units, at level -1: not a level of the tree; queued like a referrer's)."""

    member_id: str  # the holder: a member, or a partner's chain (``partner#<partner_id>``)
    level: int
    points: int  # the amount, in the asset's unit
    bucket: Bucket
    available_at: str | None
    rule_version: int
    status: str = POSTED
    asset: str = POINTS.name
    review: str | None = None  # held for review (docs/screening.md): the review's id
    rule: str | None = None  # the buyer's points under a multiplier: its rule and basis points (``Entry.rule``)
    multiplier_bps: int | None = None

    @property
    def is_commission(self) -> bool:
        return self.asset == COMMISSION.name

    @property
    def screening_key(self) -> str:
        """Which of the buyer's screening verdicts is this credit's: its level's, or the partner's."""
        return PARTNER_KEY if self.is_commission else str(self.level)

    def to_dict(self) -> dict[str, Any]:
        found = {**asdict(self), "bucket": str(self.bucket)}
        if self.asset == POINTS.name:  # points, as every record kept them before commissions: not written
            del found["asset"]
        for name in ("review", "rule", "multiplier_bps"):
            if found[name] is None:
                del found[name]
        return found

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Credit:
        return cls(member_id=data["member_id"], level=int(data["level"]), points=int(data["points"]),
                   bucket=Bucket(data["bucket"]), available_at=data.get("available_at"),
                   rule_version=int(data["rule_version"]), status=data.get("status", POSTED),
                   asset=data.get("asset", POINTS.name), review=data.get("review"), rule=data.get("rule"),
                   multiplier_bps=int(data["multiplier_bps"]) if data.get("multiplier_bps") is not None else None)


COMMISSION_LEVEL = -1  # a commission's ``level`` in a purchase record: not a level of the referral tree


@dataclass(frozen=True)
class CommissionCredit:
    """A partner's commission on a purchase, as the purchase's answer shows it."""

    partner_id: str
    amount_minor: int
    bucket: Bucket
    available_at: str | None
    status: str
    review: str | None = None

    @classmethod
    def of(cls, credit: Credit) -> CommissionCredit:
        return cls(partner_of_holder(credit.member_id) or credit.member_id, credit.points, credit.bucket,
                   credit.available_at, credit.status, credit.review)


@dataclass(frozen=True)
class PurchaseRecord:
    """A recorded purchase as later events read it: its credits and what has been refunded so far (the
    operation record's state)."""

    order_id: str
    member_id: str
    amount_minor: int
    currency: str
    refunded_minor: int
    credits: tuple[Credit, ...]
    items: tuple[dict[str, Any], ...]
    occurred_at: str
    recorded_at: str
    requested_by: str = ""
    lane: int | None = None  # the lane of each referrer's queue its credits went to: its refunds follow them
    rule_version: int | None = None  # the programme it was credited under
    stored_value: tuple[int, int] | None = None  # (principal, bonus) it paid from stored value; None: none

    def state(self) -> dict[str, Any]:
        state = {"member_id": self.member_id, "amount_minor": self.amount_minor, "currency": self.currency,
                 "refunded_minor": self.refunded_minor, "credits": [c.to_dict() for c in self.credits],
                 "items": list(self.items), "occurred_at": self.occurred_at, "requested_by": self.requested_by}
        for name in ("lane", "rule_version"):
            if getattr(self, name) is not None:
                state[name] = getattr(self, name)
        if self.stored_value is not None:  # only where used: a plain purchase's record keeps its size
            state["stored_value"] = list(self.stored_value)
        return state

    @classmethod
    def from_state(cls, order_id: str, state: dict[str, Any], recorded_at: str) -> PurchaseRecord:
        return cls(order_id=order_id, member_id=state["member_id"], amount_minor=int(state["amount_minor"]),
                   currency=state["currency"], refunded_minor=int(state["refunded_minor"]),
                   credits=tuple(Credit.from_dict(c) for c in state.get("credits") or []),
                   items=tuple(state.get("items") or []), occurred_at=state["occurred_at"], recorded_at=recorded_at,
                   requested_by=state.get("requested_by", ""),
                   lane=int(state["lane"]) if state.get("lane") is not None else None,
                   rule_version=int(state["rule_version"]) if state.get("rule_version") is not None else None,
                stored_value=(int(state["stored_value"][0]), int(state["stored_value"][1]))
                if state.get("stored_value") is not None else None)

    @property
    def fully_refunded(self) -> bool:
        return self.refunded_minor >= self.amount_minor

    def remaining(self, points: int) -> int:
        """What is left of a credit of ``points`` after the refunds so far."""
        return points - reversed_so_far(points, self.amount_minor, self.refunded_minor)


def purchase_key(order_id: str) -> str:
    return f"purchase/{order_id}"


@dataclass(frozen=True)
class PurchaseRecorded:
    """What recording a purchase answers."""

    order_id: str
    member_id: str
    amount_minor: int
    currency: str
    occurred_at: str
    rule_version: int
    credits: tuple[Credit, ...] = field(default_factory=tuple)  # points and commission, as recorded
    stored_value: tuple[int, int] | None = None  # (principal, bonus) paid from stored value; None: none
    surprise: int | None = None  # surprise points paid (docs/earning-surprise.md); None: none

    @property
    def points_credits(self) -> tuple[Credit, ...]:
        """The points credited (the buyer and the referral tree)."""
        return tuple(c for c in self.credits if not c.is_commission)

    @property
    def multiplier(self) -> Applied | None:
        """The multiplier the buyer's points were earned under, if one raised them."""
        found = [c for c in self.credits if c.level == 0 and c.rule is not None and c.multiplier_bps is not None]
        if not found or found[0].rule is None or found[0].multiplier_bps is None:
            return None
        rule = found[0].rule
        return Applied(rule, rule.partition(":")[2], found[0].multiplier_bps)

    @property
    def commission(self) -> CommissionCredit | None:
        """The partner's commission, if the buyer was brought by a partner and the purchase earned one."""
        found = [CommissionCredit.of(c) for c in self.credits if c.is_commission]
        return found[0] if found else None


@dataclass(frozen=True)
class Reversal:
    member_id: str
    level: int
    points: int
    status: str = POSTED
    asset: str = POINTS.name


@dataclass(frozen=True)
class CommissionReversal:
    partner_id: str
    amount_minor: int  # taken back (positive, like a reversal's points)
    status: str


@dataclass(frozen=True)
class RefundRecorded:
    refund_id: str
    order_id: str
    amount_minor: int
    reversals: tuple[Reversal, ...]  # of points and of commission, as recorded
    stored_value: tuple[int, int] | None = None  # (principal, bonus) of stored value given back; None: none paid
    surprise: int | None = None  # a full refund: the purchase's surprise points taken back; None: none

    @property
    def points_reversals(self) -> tuple[Reversal, ...]:
        return tuple(r for r in self.reversals if r.asset == POINTS.name)

    @property
    def commission_reversal(self) -> CommissionReversal | None:
        found = [CommissionReversal(partner_of_holder(r.member_id) or r.member_id, r.points, r.status)
                 for r in self.reversals if r.asset == COMMISSION.name]
        return found[0] if found else None


def credit_purchase(rules: ProgramRules, buyer_id: str, path: ReferralPath, amount_minor: int,
                    now: datetime, partner: PartnerBinding | None = None,
                    occurred_at: datetime | None = None, multiplier: Applied | None = None) -> list[Credit]:
    """The credits a purchase makes: the buyer at level 0, then each ancestor the rules reach.

    Points are pending for the program's hold, counted from the moment the ledger records the purchase
    and ending on the hour (a credit recorded at 10:40 with a 7-day hold is available at 10:00 seven days
    later), or available at once when the hold is zero. Holds that end on the hour keep a member's
    pending lots to at most 24 per day of hold, however many purchases credit them (a busy referrer's
    account stays a few kilobytes instead of outgrowing DynamoDB's 400 KB item). Zero-point credits
    are left out.

    A buyer bound to a partner (``partner``) earns the partner a commission, queued like a referrer's credit and
    held like points, when the purchase occurs (``occurred_at``, by default ``now``) within the attribution
    window; a zero commission is left out too.

    ``multiplier`` (the highest of the buyer's tier, statuses and the calendar: ``ProgramRules.multiplier``) raises
    the buyer's own points and is recorded on their credit; referral credits and commissions come from the base.
    """
    if rules.hold_days > 0:
        bucket, available_at = Bucket.PENDING, to_rfc3339(start_of_hour(now + timedelta(days=rules.hold_days)))
    else:
        bucket, available_at = Bucket.AVAILABLE, None
    credits = [
        Credit(member_id, level, points, bucket, available_at, rules.version, POSTED if level == 0 else QUEUED,
               rule=multiplier.rule if multiplier is not None and level == 0 else None,
               multiplier_bps=multiplier.bps if multiplier is not None and level == 0 else None)
        for member_id, level, points in rules.credit_plan(buyer_id, path.ancestors, amount_minor, multiplier)
    ]
    earned = partner.commission(amount_minor, occurred_at or now) if partner is not None else 0
    if earned > 0 and partner is not None:
        credits.append(Credit(partner.holder, COMMISSION_LEVEL, earned, bucket, available_at, rules.version, QUEUED,
                              COMMISSION.name))
    return credits


def hold_for_review(credits: list[Credit], verdicts: Mapping[str, Verdict], buyer_id: str, order_id: str,
                    recorded_at: str) -> tuple[list[Credit], list[Review]]:
    """The credits with those whose verdict is held sent to a review's lot (pending, whatever the hold), and the
    reviews they open. The buyer's own points are never held (screening judges what others earn from them)."""
    held: list[Credit] = []
    reviews: list[Review] = []
    for credit in credits:
        verdict = verdicts.get(credit.screening_key)
        if credit.status != QUEUED or verdict is None or not verdict.held:
            held.append(credit)
            continue
        review_id = review_id_of(order_id, credit.member_id)
        credit = replace(credit, bucket=Bucket.PENDING, review=review_id)
        held.append(credit)
        reviews.append(Review(
            review_id=review_id, holder=credit.member_id, buyer_id=buyer_id, order_id=order_id, asset=credit.asset,
            amount=credit.points, level=None if credit.is_commission else credit.level,
            kind=str(credit_posting(credit, order_id).kind), available_at=credit.available_at,
            rule_version=credit.rule_version, verdict=verdict, created_at=recorded_at))
    return held, reviews


def credit_posting(credit: Credit, order_id: str) -> Posting:
    if credit.is_commission:
        kind = EntryKind.COMMISSION
    else:
        kind = EntryKind.PURCHASE if credit.level == 0 else EntryKind.REFERRAL
    return Posting(
        holder=credit.member_id,
        asset=credit.asset,
        amount=credit.points,
        bucket=credit.bucket,
        kind=kind,
        source=Source("purchase", order_id),
        level=None if credit.is_commission else credit.level,
        rule_version=credit.rule_version,
        available_at=credit.available_at,
        review=credit.review,
        rule=credit.rule,
        multiplier_bps=credit.multiplier_bps,
    )


def reversed_so_far(points: int, amount_minor: int, refunded_minor: int) -> int:
    """Total reversed of a credit of ``points`` once refunds of the order add up to ``refunded_minor``."""
    return points * refunded_minor // amount_minor


def reverse_refund(credits: tuple[Credit, ...] | list[Credit], amount_minor: int, refunded_before: int,
                   refund_minor: int, order_id: str, refund_id: str, now: datetime) -> list[Posting]:
    """The postings one refund makes: each credit's share, out of the bucket its points are in now.

    A credit still on hold (its hold ends after ``now``) is reversed out of its pending lot; one whose hold
    has ended, at that very second or before, out of available (which may go below zero if the points
    were spent). One held for review is reversed out of the review's lot; the poster sends it where the review's
    decision sent the rest, if it was decided first (``ledger.deferred``).
    """
    refunded_after = refunded_before + refund_minor
    postings = []
    for credit in credits:
        points = (reversed_so_far(credit.points, amount_minor, refunded_after)
                  - reversed_so_far(credit.points, amount_minor, refunded_before))
        if points == 0:
            continue
        still_held = credit.review is not None or (credit.bucket is Bucket.PENDING and credit.available_at is not None
                                                   and parse_rfc3339(credit.available_at) > now)
        postings.append(Posting(
            holder=credit.member_id,
            asset=credit.asset,
            amount=-points,
            bucket=Bucket.PENDING if still_held else Bucket.AVAILABLE,
            kind=EntryKind.REFUND,
            source=Source("refund", f"{order_id}/{refund_id}"),
            level=None if credit.is_commission else credit.level,
            rule_version=credit.rule_version,
            available_at=credit.available_at if still_held else None,
            review=credit.review,
        ))
    return postings

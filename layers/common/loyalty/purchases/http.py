"""Purchases' and refunds' HTTP models."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import AliasChoices, AwareDatetime, ConfigDict, Field, StrictInt, StringConstraints, model_validator

from loyalty.http import examples
from loyalty.http.types import (
    MAX_MINOR,
    Answer,
    ClientId,
    Currency,
    DeviceId,
    MemberId,
    Name,
    PaymentFingerprint,
    Request,
    Timestamp,
)
from loyalty.ledger.assets import Bucket

AmountMinor = Annotated[StrictInt, Field(gt=0, le=MAX_MINOR, description="Integer minor units (fen for CNY)",
                                         examples=[12900])]

REVIEW_FIELD = Field(default=None, exclude_if=lambda value: value is None,
                     validation_alias=AliasChoices("review_id", "review"),  # the use case's credit calls it review
                     description="Only on a credit held for review (docs/screening.md): the review's id. The credit "
                                 "waits, pending, until staff decide it")


class PurchaseItem(Request):
    sku: Annotated[Name, StringConstraints(max_length=64), Field(examples=["WASH-6"])]
    name: Annotated[Name, StringConstraints(max_length=200), Field(examples=["6 car washes"])] | None = None
    category: Annotated[Name, StringConstraints(max_length=64), Field(examples=["car-care"])] | None = None
    quantity: Annotated[StrictInt, Field(ge=1, le=10_000)] = 1
    amount_minor: Annotated[StrictInt, Field(ge=0, le=MAX_MINOR)] | None = None


class NewPurchase(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"order_id": examples.ORDER_ID, "member_id": examples.MEMBER_ID, "amount_minor": 12900, "currency": "CNY",
         "occurred_at": "2026-11-23T09:30:00Z",
         "items": [{"sku": "WASH-6", "name": "6 car washes", "category": "car-care", "quantity": 1,
                    "amount_minor": 12900}], "payment_fingerprint": "fp_1NxQ2Y"}]})

    order_id: ClientId
    member_id: MemberId
    amount_minor: AmountMinor
    currency: Currency
    occurred_at: AwareDatetime | None = Field(
        default=None, description="When the purchase happened (RFC 3339); default: when it is recorded")
    items: Annotated[list[PurchaseItem], Field(max_length=200,
                                               description="What was bought (reminders use it); "
                                                           "points come from amount_minor")] | None = None
    device_id: DeviceId | None = None
    payment_fingerprint: PaymentFingerprint | None = None
    stored_value_minor: Annotated[StrictInt, Field(gt=0, le=MAX_MINOR, examples=[5000])] | None = Field(
        default=None, description="The part of amount_minor paid from the buyer's stored value, in the same write "
                                  "(bonus in proportion: docs/wallet.md); not held → `409 insufficient-funds`, "
                                  "nothing written. Points are earned on the whole amount.")

    @model_validator(mode="after")
    def stored_value_within_amount(self) -> NewPurchase:
        if self.stored_value_minor is not None and self.stored_value_minor > self.amount_minor:
            raise ValueError("stored_value_minor is at most amount_minor")
        return self


class PostingStatus(StrEnum):
    """posted: in the member's ledger with this write (the buyer's own points); queued: for the poster, which
    posts it to the member's ledger in a batch, usually within a second or two (every referrer's; until then
    the member's read shows it as `queued`, apart from the balances)."""

    POSTED = "posted"
    QUEUED = "queued"


CreditStatus = Annotated[PostingStatus, Field(description="Whether it is in the member's ledger yet")]


class Credit(Answer):
    member_id: str
    level: int = Field(description="0 the buyer, 1 the buyer's referrer, …")
    points: int
    bucket: Bucket
    available_at: Timestamp | None
    status: CreditStatus
    review_id: str | None = REVIEW_FIELD


class Commission(Answer):
    """What the purchase earned the partner whose link the buyer signed up through (minor units), held like
    points and then posted to the partner's ledger."""

    partner_id: str
    amount_minor: int
    bucket: Bucket
    available_at: Timestamp | None
    status: CreditStatus
    review_id: str | None = REVIEW_FIELD


class StoredValueParts(Answer):
    principal_minor: int
    bonus_minor: int


STORED_VALUE_FIELD = Field(default=None, exclude_if=lambda value: value is None,
                           description="Only where the purchase paid with stored value: the parts taken (given back, "
                                       "on a refund), in minor units")


class AppliedMultiplier(Answer):
    """The multiplier the buyer's points were earned under: a tier's, a status's or a calendar multiplier's name."""

    name: str = Field(examples=["Spring Festival"])
    bps: int = Field(examples=[20000], description="The buyer's points are floor(base × bps / 10000)")


class SurprisePoints(Answer):
    """Surprise points (docs/earning-surprise.md): paid with the purchase (held like its points), or taken back by
    its full refund."""

    points: int = Field(examples=[42])


SURPRISE_FIELD = Field(default=None, exclude_if=lambda value: value is None,
                       description="Only where the purchase's surprise draw hit and the day's budget paid it")


class Purchase(Answer):
    order_id: str
    member_id: str
    amount_minor: int
    currency: str
    occurred_at: Timestamp
    rule_version: int
    credits: list[Credit]
    commission: Commission | None = Field(
        default=None, description="Only for a buyer a partner brought, within its attribution window")
    stored_value: StoredValueParts | None = STORED_VALUE_FIELD
    multiplier: AppliedMultiplier | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="Only where a multiplier raised the buyer's points: the highest of the buyer's tier, statuses "
                    "and the calendar's (referral credits come from the base)")
    surprise: SurprisePoints | None = SURPRISE_FIELD

    @classmethod
    def of(cls, result: Any) -> Self:
        applied = getattr(result, "multiplier", None)
        surprise = getattr(result, "surprise", None)
        return cls.model_validate({
            "multiplier": {"name": applied.name, "bps": applied.bps} if applied is not None else None,
            "surprise": {"points": surprise} if surprise is not None else None,
            "order_id": result.order_id, "member_id": result.member_id, "amount_minor": result.amount_minor,
            "currency": result.currency, "occurred_at": result.occurred_at, "rule_version": result.rule_version,
            "credits": result.points_credits, "commission": result.commission,
            "stored_value": _parts(getattr(result, "stored_value", None))})


def _parts(found: tuple[int, int] | None) -> dict[str, int] | None:
    return {"principal_minor": found[0], "bonus_minor": found[1]} if found is not None else None


class NewRefund(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"refund_id": examples.REFUND_ID, "amount_minor": 4300}]})

    refund_id: ClientId
    amount_minor: AmountMinor


class Reversal(Answer):
    member_id: str
    level: int
    points: int
    status: CreditStatus


class CommissionReversal(Answer):
    partner_id: str
    amount_minor: int = Field(description="The commission taken back (like a reversal's points)")
    status: CreditStatus


class Refund(Answer):
    refund_id: str
    order_id: str
    amount_minor: int
    reversals: list[Reversal]
    commission_reversal: CommissionReversal | None = Field(
        default=None, description="The partner's share of the refund, when the purchase earned a commission")
    stored_value: StoredValueParts | None = STORED_VALUE_FIELD
    multiplier: AppliedMultiplier | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="Only where a multiplier raised the buyer's points: the highest of the buyer's tier, statuses "
                    "and the calendar's (referral credits come from the base)")
    surprise: SurprisePoints | None = Field(
        default=None, exclude_if=lambda value: value is None,
        description="Only on the refund that makes a purchase fully refunded: its surprise points taken back (a "
                    "partial refund leaves them)")

    @classmethod
    def of(cls, result: Any) -> Self:
        applied = getattr(result, "multiplier", None)
        surprise = getattr(result, "surprise", None)
        return cls.model_validate({
            "multiplier": {"name": applied.name, "bps": applied.bps} if applied is not None else None,
            "surprise": {"points": surprise} if surprise is not None else None,
            "refund_id": result.refund_id, "order_id": result.order_id, "amount_minor": result.amount_minor,
            "reversals": result.points_reversals, "commission_reversal": result.commission_reversal,
            "stored_value": _parts(getattr(result, "stored_value", None))})

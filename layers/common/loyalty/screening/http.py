"""Screening's HTTP models: the signals sign-up and purchases accept, reviews and their decisions."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import ConfigDict, Field, StringConstraints

from loyalty.http import examples
from loyalty.http.types import Answer, Request, Timestamp

ReviewIdInPath = Annotated[str, StringConstraints(pattern=r"^rv_[0-9a-f]{24}$"), Path(
    description="A review's id (`rv_` and 24 hex digits), as a held credit or the review list names it",
    openapi_examples=examples.shown(examples.REVIEW_ID, "A review's id (this one is no one's: it answers 404; the "
                                                        "ids come from held credits)"))]
ReviewStatus = Literal["open", "decided"]


class HeldCredit(Answer):
    holder: str = Field(description="Whose credit: a member's id, or `partner#<partner_id>`")
    partner_id: str | None = Field(description="The partner, for a partner's commission; else null")
    asset: str = Field(examples=["points"])
    amount: int = Field(description="What the purchase credited, in the asset's unit")
    held: int | None = Field(default=None, description="What the review's lot still holds (refunds reverse from it)")
    level: int | None = Field(description="1 the buyer's referrer, …; null for a partner's commission")
    order_id: str
    buyer_id: str
    available_at: Timestamp | None = Field(description="When its hold would have ended; null: no hold")


class ReviewAnswer(Answer):
    review_id: str
    member_id: str = Field(description="Whose credit is held: a member's id, or `partner#<partner_id>`")
    credit: HeldCredit
    reasons: list[str] = Field(examples=[["same_device", "cluster"]])
    signals: dict[str, int] = Field(description="Each signal found and its weight (docs/screening.md)")
    score: int = Field(description="The sum of the weights; 60 or more holds a credit")
    status: Literal["open", "approved", "rejected"]
    created_at: Timestamp
    decided_at: Timestamp | None = None
    decided_by: str | None = None
    note: str | None = None

    @classmethod
    def of(cls, review: Any, held: int | None = None) -> Self:
        partner = review.holder.removeprefix("partner#") if review.holder.startswith("partner#") else None
        return cls.model_validate({
            "review_id": review.review_id, "member_id": review.holder,
            "credit": {"holder": review.holder, "partner_id": partner, "asset": review.asset, "amount": review.amount,
                       "held": held, "level": review.level, "order_id": review.order_id, "buyer_id": review.buyer_id,
                       "available_at": review.available_at},
            "reasons": list(review.verdict.reasons), "signals": review.verdict.to_dict(),
            "score": review.verdict.score, "status": review.status, "created_at": review.created_at,
            "decided_at": review.decided_at, "decided_by": review.decided_by, "note": review.note})


class ReviewList(Answer):
    items: list[ReviewAnswer]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last")


class NewDecision(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"decision": "reject", "note": "The referee signed up on the referrer's phone and paid with their card."}]})

    decision: Literal["approve", "reject"]
    note: Annotated[str, StringConstraints(min_length=1, max_length=1000, strip_whitespace=True),
                    Field(description="Why: kept with the review (and shown to whoever reads it later)")]

"""Tiers and statuses over HTTP: the admin's settings and the tier and statuses a member read adds."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import ConfigDict, Field, StrictInt

from loyalty.http.types import Answer, Name, Request, Timestamp
from loyalty.program.domain import ProgramRules, StatusRule, TierRule
from loyalty.shared.clock import to_rfc3339
from loyalty.tiers.domain import MAX_DISCOUNT_BPS, MAX_MULTIPLIER_BPS, MAX_STATUSES, MAX_TIERS, TierView

RuleName = Annotated[Name, Field(max_length=40)]
Multiple = Annotated[StrictInt, Field(ge=0, le=MAX_MULTIPLIER_BPS, description="basis points: 12000 = 1.2 × points")]
EXAMPLE: dict[str, Any] = {"tiers": [{"tier": "silver", "min_spend_12m_minor": 100000, "discount_bps": 500,
                      "points_multiplier_bps": 10000},
                     {"tier": "gold", "min_spend_12m_minor": 500000, "discount_bps": 1500,
                      "points_multiplier_bps": 12000}],
           "statuses": [{"status": "shareholder", "min_qualified_referrals": 5, "points_multiplier_bps": 15000}]}


class TierSettings(Request):
    """A tier held by 12-month spend net of refunds; `discount_bps` is shown to the till, which applies it to the
    price it sends (the service never changes `amount_minor`)."""

    tier: RuleName
    min_spend_12m_minor: Annotated[StrictInt, Field(ge=0, le=10**15)]
    discount_bps: Annotated[StrictInt, Field(ge=0, le=MAX_DISCOUNT_BPS)]
    points_multiplier_bps: Multiple

    def rule(self) -> TierRule:
        return TierRule(self.tier, self.min_spend_12m_minor, self.discount_bps, self.points_multiplier_bps)


class StatusSettings(Request):
    """A status held by qualified referrals: direct referees with a purchase not fully refunded."""

    status: RuleName
    min_qualified_referrals: Annotated[StrictInt, Field(ge=1, le=1_000_000)]
    points_multiplier_bps: Multiple

    def rule(self) -> StatusRule:
        return StatusRule(self.status, self.min_qualified_referrals, self.points_multiplier_bps)


class NewTiers(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    version: StrictInt | None = Field(
        default=None, description="If given, publish only if this is still the current programme version (else 409)")
    tiers: Annotated[list[TierSettings], Field(max_length=MAX_TIERS, description=(
        "Strictly ascending by `min_spend_12m_minor`, unique names; `[]`: none"))]
    statuses: Annotated[list[StatusSettings], Field(max_length=MAX_STATUSES, description="Unique names; `[]`: none")]


class Tiers(Answer):
    version: int = Field(description="The programme version these tiers and statuses belong to")
    tiers: list[TierSettings]
    statuses: list[StatusSettings]

    @classmethod
    def of(cls, rules: ProgramRules) -> Self:
        return cls.model_validate({
            "version": rules.version,
            "tiers": [{"tier": t.tier, "min_spend_12m_minor": t.min_spend_12m_minor, "discount_bps": t.discount_bps,
                       "points_multiplier_bps": t.points_multiplier_bps} for t in rules.tiers],
            "statuses": [{"status": s.status, "min_qualified_referrals": s.min_qualified_referrals,
                          "points_multiplier_bps": s.points_multiplier_bps} for s in rules.statuses]})


class NextTier(Answer):
    tier: str
    spend_needed_minor: int = Field(description="What the trailing 12 months' spend lacks for it")


class MemberTier(Answer):
    """A member's tier now (a review that fell due is applied on read) and their progress."""

    tier: str | None = Field(examples=["gold"], description="null: no tier")
    since: Timestamp | None = Field(description="When the tier was reached or last changed at a review")
    review_at: Timestamp | None = Field(description="The tier may go down only then (since + 12 months)")
    discount_bps: int = Field(description="For the till to apply to the price it sends")
    points_multiplier_bps: int
    spend_12m_minor: int = Field(description="Net of refunds, over the last 12 local months of recording")
    next: NextTier | None = Field(description="null: the highest tier")

    @classmethod
    def of(cls, view: Any) -> Self:
        return cls.model_validate({
            "tier": view.tier, "since": to_rfc3339(view.since) if view.since else None,
            "review_at": to_rfc3339(view.review_at) if view.review_at else None,
            "discount_bps": view.discount_bps, "points_multiplier_bps": view.points_multiplier_bps,
            "spend_12m_minor": view.spend_12m_minor, "next": {
                "tier": view.next.tier, "spend_needed_minor": view.next.spend_needed_minor} if view.next else None})


def member_fields(view: TierView | None) -> dict[str, Any]:
    """What a member read adds: nothing under a programme without tiers or statuses."""
    if view is None:
        return {}
    return {"tier": MemberTier.of(view), "statuses": list(view.statuses)}

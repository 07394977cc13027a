"""The metrics' HTTP model: a period's figures (``GET /v1/metrics``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from loyalty.http.types import Answer

LocalDate = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$", description="A local date in the programme's "
                                 "time zone", examples=["2026-11-23"], json_schema_extra={"format": "date"})]
Bps = Annotated[int, Field(ge=0, le=10_000, description="Basis points (1/100 of a percent), rounded down")]


class MemberFigures(Answer):
    total: int = Field(ge=0, description="Members who had joined by the end of the period", examples=[1250])
    new: int = Field(ge=0, description="Members who joined in the period", examples=[84])


class PurchaseFigures(Answer):
    count: int = Field(ge=0, description="Purchases that occurred in the period (refunded or not)", examples=[412])
    buyers: int = Field(ge=0, description="Distinct members who made them", examples=[301])
    revenue_minor: int = Field(description="Their amounts net of every refund recorded so far, in minor units of "
                                           "the programme's currency", examples=[5318700])


class PointFigures(Answer):
    issued: int = Field(description="Points of the period's entries that count as earned (purchases, referrals, "
                                    "refund reversals, adjustments): net of refunds and adjustments", examples=[61240])
    redeemed: int = Field(description="Points redemptions took in the period", examples=[18300])
    expired: int = Field(description="Points the period's expiry entries took (recorded by each member's next write "
                                     "after the points' date; a read never counts expired points)", examples=[1200])
    outstanding: int = Field(description="Every member's available + pending points at the end of the period "
                                         "(posted entries; queued referral credits not included)",
                             examples=[240150])
    from_actions: int = Field(description="Of `issued`: what actions earned (docs/earning-actions.md)", examples=[3200])
    from_surprises: int = Field(description="Of `issued`: surprise points paid, less those full refunds took back "
                                            "(docs/earning-surprise.md)", examples=[850])


class CommissionFigures(Answer):
    outstanding_minor: int = Field(description="What the shop owes its partners at the end of the period: every "
                                               "commission entry (commissions, less refunds and payouts), pending "
                                               "or available, in minor units", examples=[48500])


class StoredValueFigures(Answer):
    outstanding_principal_minor: int = Field(description="Members' principal at the end of the period: every "
                                                         "principal entry (what withdrawals would pay back)",
                                             examples=[4_800_000])
    outstanding_bonus_minor: int = Field(description="Members' bonus at the end of the period", examples=[186_000])
    topped_up_minor: int = Field(description="Principal the period's top-ups added", examples=[1_200_000])
    bonus_given_minor: int = Field(description="Bonus the period's top-ups added", examples=[42_000])
    paid_minor: int = Field(description="What the period's purchases paid from stored value (both parts)",
                            examples=[980_000])
    refunded_minor: int = Field(description="What the period's refunds gave back to stored value (both parts)",
                                examples=[12_900])
    withdrawn_minor: int = Field(description="Principal the period's withdrawals paid back", examples=[300_000])
    bonus_forfeited_minor: int = Field(description="Bonus the period's withdrawals forfeited", examples=[9_000])


class BundleFigures(Answer):
    outstanding_uses: int = Field(description="Uses of bundle cards members hold at the end of the period, paid for "
                                              "and not yet had (expired cards' too, which can still be refunded)",
                                  examples=[1840])
    sold_uses: int = Field(description="Uses the period's bundle sales added", examples=[360])
    used: int = Field(description="Uses the period's uses took", examples=[298])
    refunded_uses: int = Field(description="Unused uses the period's bundle refunds took back", examples=[12])


class DayFigures(Answer):
    date: LocalDate
    purchases: int = Field(ge=0, examples=[14])
    revenue_minor: int = Field(examples=[180600])
    new_members: int = Field(ge=0, examples=[3])


class Metrics(Answer):
    """The merchant dashboard's figures for the local days ``from``–``to`` (docs/metrics.md has the
    definitions). Every day of the period is in ``by_day``, oldest first, days without activity included."""

    members: MemberFigures
    purchases: PurchaseFigures
    repeat_purchase_rate_bps: Bps = Field(description="Of the period's buyers, the share who bought before the "
                                                      "period or more than once in it (回头客率), rounded down",
                                          examples=[3120])
    referred_revenue_share_bps: Bps = Field(description="The share of the period's revenue bought by members who "
                                                        "have a referrer, rounded down", examples=[4470])
    points: PointFigures
    stored_value: StoredValueFigures
    bundles: BundleFigures
    commission: CommissionFigures
    by_day: list[DayFigures]
    time_zone: str = Field(description="The time zone the days are local to", examples=["Asia/Shanghai"])

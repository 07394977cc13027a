"""Stored value's HTTP models: the settings, a top-up, a withdrawal."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import ConfigDict, Field, StrictInt, StringConstraints, model_validator

from loyalty.http import examples
from loyalty.http.types import MAX_MINOR, Answer, ClientId, Currency, MemberId, Request
from loyalty.ledger.http import Balances
from loyalty.wallet import domain

TOP_UP_ID, WITHDRAWAL_ID = "TU-2026-000311", "WD-2026-000017"
MemberCode = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class Tier(Request):
    min_minor: Annotated[StrictInt, Field(ge=1, le=MAX_MINOR, description="A top-up of at least this much …",
                                          examples=[500000])]
    bonus_bps: Annotated[StrictInt, Field(ge=0, le=domain.BPS, description="… earns this bonus, in basis points of "
                                                                           "the top-up (rounded down)",
                                          examples=[500])]


class WalletSettings(Request):
    """The top-up bonus tiers (the highest tier a top-up reaches gives its bonus) and the principal a member may
    hold (the registered-card limit). Sent and answered whole."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [domain.DEFAULT_SETTINGS.to_dict()]})

    top_up_bonus: Annotated[list[Tier], Field(max_length=20, description="Distinct thresholds; any order (answered "
                                                                         "highest first)")]
    max_principal_minor: Annotated[StrictInt, Field(ge=0, le=MAX_MINOR, examples=[500000])]

    @model_validator(mode="after")
    def distinct(self) -> WalletSettings:
        thresholds = [t.min_minor for t in self.top_up_bonus]
        if len(set(thresholds)) != len(thresholds):
            raise ValueError("each tier's min_minor must be distinct")
        return self

    def settings(self) -> domain.WalletSettings:
        return domain.WalletSettings(tuple(domain.Tier(t.min_minor, t.bonus_bps) for t in self.top_up_bonus),
                                     self.max_principal_minor)

    @classmethod
    def of(cls, result: Any) -> Self:
        return cls.model_validate(result.to_dict())


class NewTopUp(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"top_up_id": TOP_UP_ID, "member_id": examples.MEMBER_ID, "amount_minor": 300000, "currency": "CNY"}]})

    top_up_id: ClientId
    member_id: MemberId
    amount_minor: Annotated[StrictInt, Field(gt=0, le=MAX_MINOR, description="Paid in, minor units",
                                             examples=[300000])]
    currency: Currency


class TopUp(Answer):
    top_up_id: str
    member_id: str
    amount_minor: int = Field(description="Added to principal")
    bonus_minor: int = Field(description="Added to bonus: floor(amount × bonus_bps / 10000) of the highest tier "
                                         "reached")
    balances: Balances

    @classmethod
    def of(cls, result: Any) -> Self:
        return cls(top_up_id=result.top_up_id, member_id=result.member_id, amount_minor=result.amount_minor,
                   bonus_minor=result.bonus_minor, balances=Balances.of(result.balances, result.currency))


class NewWithdrawal(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"withdrawal_id": WITHDRAWAL_ID, "member_code": "K7Q2M9XD4F7H2K9"}]})

    withdrawal_id: ClientId
    member_code: MemberCode | None = Field(default=None, examples=["K7Q2M9XD4F7H2K9"], description=(
        "Staff: the code on the member's card today (`GET /v1/members/me/card`), proof the member is there; "
        "missing, wrong or stale → `422 member-code-invalid`, nothing written. An admin may leave it out."))


class Withdrawal(Answer):
    withdrawal_id: str
    principal_minor: int = Field(description="Paid back to the member: all the principal held")
    bonus_forfeited_minor: int = Field(description="All the bonus held, forfeited")


class NextTier(Answer):
    min_minor: int = Field(description="The tier's threshold", examples=[500000])
    bonus_bps: int = Field(description="Its bonus", examples=[500])
    more_minor: int = Field(description="What the top-up would need to reach it", examples=[200000])
    bonus_minor: int = Field(description="What a top-up of exactly the threshold earns", examples=[25000])


class TopUpQuote(Answer):
    """A top-up previewed at the till before the member pays (nothing is written): the bonus this amount earns, the
    next tier up to offer, and how much more principal the member may hold under the cap."""

    amount_minor: int = Field(examples=[300000])
    bonus_minor: int = Field(description="floor(amount × bonus_bps / 10000) of the highest tier reached",
                             examples=[9000])
    bonus_bps: int = Field(description="The tier reached (0 below every tier)", examples=[300])
    next: NextTier | None = Field(description="The lowest tier above the amount that pays more; null when none does")
    principal_minor: int = Field(description="The member's principal now", examples=[0])
    room_minor: int = Field(description="How much principal the cap leaves room for (a top-up above it is "
                                        "refused with `422 stored-value-cap`)", examples=[500000])
    max_principal_minor: int = Field(description="The cap", examples=[500000])
    fits: bool = Field(description="Whether this amount is within the room", examples=[True])

    @classmethod
    def of(cls, result: Any) -> Self:
        up = result.next
        return cls(amount_minor=result.amount_minor, bonus_minor=result.bonus_minor, bonus_bps=result.bonus_bps,
                   next=None if up is None else NextTier(min_minor=up.min_minor, bonus_bps=up.bonus_bps,
                                                         more_minor=up.more_minor, bonus_minor=up.bonus_minor),
                   principal_minor=result.principal_minor, room_minor=result.room_minor,
                   max_principal_minor=result.max_principal_minor, fits=result.fits)

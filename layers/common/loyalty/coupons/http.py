"""Coupons' HTTP models: templates, coupons, their use and its void."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import ConfigDict, Field, StrictInt, StringConstraints

from loyalty.coupons.domain import Template
from loyalty.http import examples
from loyalty.http.types import MAX_MINOR, Answer, ClientId, MemberId, Name, Request, Timestamp

TemplateIdInPath = Annotated[ClientId, Path(openapi_examples=examples.shown(
    examples.COUPON_TEMPLATE_ID, "The welcome coupon's template"))]
CodeInPath = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9 -]+$"), Path(
    description="The coupon's code as printed or typed: any case, spaces and dashes ignored",
    openapi_examples=examples.shown(examples.COUPON_CODE, "A code (this one is no one's: it answers 404)"))]
RedemptionIdInPath = Annotated[ClientId, Path(openapi_examples=examples.shown(
    examples.COUPON_REDEMPTION_ID, "The till's id of the coupon's use"))]
Minor = Annotated[StrictInt, Field(ge=0, le=MAX_MINOR)]


class IssueOn(StrEnum):
    """When a template's coupons are issued automatically."""

    SIGN_UP = "sign_up"
    REFERRED_SIGN_UP = "referred_sign_up"
    BIRTHDAY = "birthday"


class CouponTemplateTerms(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "20 off your first wash", "amount_off_minor": 2000, "min_spend_minor": 10000, "valid_days": 30,
         "per_member_limit": 1, "issue_on": "referred_sign_up"},
        {"name": "10 % off, up to 50", "percent_off_bps": 1000, "max_off_minor": 5000, "valid_days": 14,
         "per_member_limit": 2, "issue_on": None}]})

    name: Annotated[Name, StringConstraints(max_length=100)]
    amount_off_minor: Annotated[StrictInt, Field(gt=0, le=MAX_MINOR)] | None = Field(
        default=None, description="A fixed amount off, in minor units (exactly one of this and percent_off_bps)")
    percent_off_bps: Annotated[StrictInt, Field(gt=0, le=10_000)] | None = Field(
        default=None, description="A share off, in basis points (1000 = 10 %), rounded down")
    max_off_minor: Annotated[StrictInt, Field(gt=0, le=MAX_MINOR)] | None = Field(
        default=None, description="With percent_off_bps: the most it takes off")
    min_spend_minor: Minor = Field(default=0, description="The least subtotal it applies to")
    valid_days: Annotated[StrictInt, Field(ge=1, le=3660)] = Field(description="Days from issue to expiry")
    per_member_limit: Annotated[StrictInt, Field(ge=1, le=1000)] | None = Field(
        default=None, description="Active coupons of this template a member may hold at once; null: no limit")
    issue_on: IssueOn | None = Field(
        default=None, description="Issued automatically: to every new member, to a referred one, on birthdays")

    def template(self, template_id: str) -> Template:
        return Template(template_id=template_id, **self.model_dump(mode="json"))


class CouponTemplate(Answer):
    template_id: str
    name: str
    amount_off_minor: int | None
    percent_off_bps: int | None
    max_off_minor: int | None
    min_spend_minor: int
    valid_days: int
    per_member_limit: int | None
    issue_on: IssueOn | None


class CouponTemplateList(Answer):
    items: list[CouponTemplate]


class NewCoupon(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"issue_id": examples.COUPON_ISSUE_ID, "template_id": examples.COUPON_TEMPLATE_ID,
         "member_id": examples.MEMBER_ID}]})

    issue_id: ClientId
    template_id: ClientId
    member_id: MemberId


class Coupon(Answer):
    coupon_id: str
    code: str = Field(description="13 characters of 23456789ABCDEFGHJKMNPQRSTVWXYZ, drawn at random (63.8 bits); "
                                  "the till may type it in any case")
    template_id: str
    member_id: str
    status: Literal["active", "used", "expired"]
    expires_at: Timestamp
    used_at: Timestamp | None


class CouponList(Answer):
    items: list[Coupon]


class NewCouponRedemption(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"redemption_id": examples.COUPON_REDEMPTION_ID, "member_id": examples.MEMBER_ID, "subtotal_minor": 12900}]})

    redemption_id: ClientId
    member_id: MemberId
    subtotal_minor: Minor


class CouponRedemption(Answer):
    redemption_id: str
    code: str
    discount_minor: int = Field(description="What the coupon takes off the subtotal, in minor units")


class CouponVoid(Answer):
    redemption_id: str
    code: str
    voided_at: Timestamp

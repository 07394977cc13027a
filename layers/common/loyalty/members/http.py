"""Membership's HTTP models: sign-up, a member, the referral tree, contact preferences."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StringConstraints, field_validator

from loyalty.http import examples
from loyalty.http.types import Answer, DeviceId, Email, Locale, Name, PaymentFingerprint, Request, Timestamp, TimeZone
from loyalty.identity.domain import normalize_phone
from loyalty.ledger.http import Balances
from loyalty.members.domain import MemberView, ReferralSummary
from loyalty.segments.http import MemberSegment
from loyalty.tiers.http import MemberTier, member_fields

DisplayName = Annotated[Name, StringConstraints(max_length=80), Field(examples=["Li Wei"])]
Birthday = Annotated[date, Field(description="YYYY-MM-DD", examples=["1990-05-01"])]


def _e164(text: str) -> str:
    phone = normalize_phone(text)
    if phone is None:
        raise ValueError("not a phone number: give it in E.164 (+8613800138000), or a Chinese number without +86")
    return phone


Phone = Annotated[str, StringConstraints(min_length=3, max_length=32), AfterValidator(_e164), Field(
    description="E.164 (`+8613800138000`); spaces, dashes and brackets are ignored, and a number without a country "
                "code is read as China's (+86). Stored and shown in E.164.", examples=["+8613800138000"])]


class NewMember(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"email": "li.wei@example.com", "display_name": "Li Wei", "birthday": "1990-05-01", "locale": "zh-CN",
         "marketing_opt_in": True, "device_id": examples.DEVICE_ID}]})

    email: Email
    display_name: DisplayName
    birthday: Birthday | None = None
    locale: Locale | None = Field(default=None, description="Default: zh-CN")
    marketing_opt_in: StrictBool = False
    referral_code: Annotated[str, StringConstraints(min_length=1, max_length=32),
                             Field(description="A member's referral code, or the code of a member's or a partner's "
                                               "link", examples=["K7Q2M9XD"])] | None = None
    click_id: Annotated[str, StringConstraints(min_length=1, max_length=128),
                        Field(description="The signed click id a link's landing page gave (the app carries it): "
                                          "names the link when `referral_code` is left out; a forged one → "
                                          "`422 invalid-click-id`")] | None = None
    device_id: DeviceId | None = None
    payment_fingerprint: PaymentFingerprint | None = None
    phone: Phone | None = Field(default=None, description="Default: the token's verified `phone_number`, if any",
                                examples=["+8613800138000"])
    time_zone: TimeZone | None = Field(default=None, description="Default: Asia/Shanghai for Chinese locales, "
                                                                 "else the outreach settings' default time zone")

    @field_validator("birthday")
    @classmethod
    def plausible_birthday(cls, value: date | None) -> date | None:
        if value is not None and value < date(1900, 1, 1):
            raise ValueError("birthday must be after 1900-01-01")
        return value


class PartnerBinding(Answer):
    """The partner whose link the member signed up through, once."""

    partner_id: str
    bound_at: Timestamp
    attribution_ends_at: Timestamp = Field(description="Purchases that occur before it earn the partner a "
                                                       "commission")


class Member(Answer):
    member_id: str
    email: str
    display_name: str
    referral_code: str
    referral_link: str
    referrer_id: str | None
    joined_at: Timestamp
    locale: str
    marketing_opt_in: bool
    birthday: date | None
    time_zone: str | None
    phone: str | None = Field(description="E.164; null when the member has none")
    balances: Balances
    partner: PartnerBinding | None = Field(default=None, description="Only for a member a partner's link brought")
    tier: MemberTier | None = Field(default=None, exclude_if=lambda value: value is None, description=(
        "Only under a programme with tiers or statuses: the tier held now and the progress to the next"))
    statuses: list[str] | None = Field(default=None, exclude_if=lambda value: value is None, examples=[
        ["shareholder"]], description="Only under a programme with tiers or statuses: the statuses held now")
    segment: MemberSegment | None = Field(default=None, exclude_if=lambda value: value is None, description=(
        "On a member read: the member's segment (docs/segments.md)"))

    @classmethod
    def of(cls, view: MemberView) -> Member:
        m = view.member
        return cls(member_id=m.member_id, email=m.email, display_name=m.display_name,
                   referral_code=m.referral_code, referral_link=view.referral_link,
                   referrer_id=m.referrer_id, joined_at=m.joined_at, locale=m.locale,
                   marketing_opt_in=m.marketing_opt_in,
                   birthday=date.fromisoformat(m.birthday) if m.birthday else None, time_zone=m.time_zone,
                   phone=m.phone_number,
                   balances=Balances.of(view.balances, view.currency,
                                        bundles=view.bundles() if view.bundles is not None else []),
                   partner=PartnerBinding.model_validate(m.partner) if m.partner else None,
                   segment=MemberSegment.of(view.segment) if view.segment is not None else None,
                   **member_fields(view.standing))


class ProfileChanges(Request):
    """Only the fields sent change; `phone: null` removes the phone."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"display_name": "Li Wei", "phone": "+8613800138000"}]})

    display_name: DisplayName | None = None
    phone: Phone | None = None

    @field_validator("display_name", mode="before")
    @classmethod
    def name_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("display_name cannot be removed: send a name, or leave the field out")
        return value


class MemberList(Answer):
    items: list[Member] = Field(description="Every member that matches (none: an empty list)")

    @classmethod
    def of(cls, views: list[MemberView]) -> MemberList:
        return cls(items=[Member.of(view) for view in views])


class ReferralLevel(Answer):
    level: int
    members: int


class DirectReferral(Answer):
    member_id: str
    display_name: str
    joined_at: Timestamp


class ReferralTree(Answer):
    referral_code: str
    referral_link: str
    levels: list[ReferralLevel]
    direct: list[DirectReferral] = Field(description="The first 100 direct referrals, in the order they joined")
    points_from_referrals: int

    @classmethod
    def of(cls, summary: ReferralSummary) -> ReferralTree:
        return cls(referral_code=summary.member.referral_code, referral_link=summary.referral_link,
                   levels=[ReferralLevel(level=level, members=count)
                           for level, count in sorted(summary.levels.items())],
                   direct=[DirectReferral.model_validate(r) for r in summary.direct],
                   points_from_referrals=summary.points_from_referrals)


class PreferenceChanges(Request):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"notices": True, "time_zone": "Asia/Shanghai"}]})

    marketing_opt_in: StrictBool | None = None
    notices: StrictBool | None = Field(default=None, description="Account notices such as points becoming available")
    locale: Locale | None = None
    time_zone: TimeZone | None = None
    birthday: Birthday | None = None


class Preferences(Answer):
    marketing_opt_in: bool
    notices: bool
    locale: str
    time_zone: str | None
    birthday: date | None


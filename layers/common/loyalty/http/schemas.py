"""The API's request and response models (contract v1, ``../shared/API.md``).

Integers are strict (a float, a numeric string or a boolean is refused, never rounded); unknown
fields are refused, so a misspelt field cannot be silently ignored in a money-like request.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from loyalty.http.auth import MEMBER_ID_PATTERN
from loyalty.program import MAX_REFERRAL_LEVELS

ClientId = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]
MemberId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=MEMBER_ID_PATTERN)]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Email = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Locale = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
TimeZone = Annotated[str, StringConstraints(max_length=64, pattern=r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$"),
                     Field(description="IANA time zone, e.g. Asia/Shanghai", examples=["Asia/Shanghai"])]
MAX_MINOR = 10**12  # ten billion in a two-decimal currency: far above any real order
MAX_POINTS = 10**12
Timestamp = Annotated[str, Field(description="RFC 3339, UTC", examples=["2026-11-23T09:30:00Z"])]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None


# --- members ------------------------------------------------------------------------------------

class SignUp(Request):
    email: Email
    display_name: Annotated[Text, StringConstraints(max_length=80)]
    birthday: date | None = None
    locale: Locale | None = None
    marketing_opt_in: StrictBool = False
    referral_code: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None
    time_zone: TimeZone | None = None

    @field_validator("birthday")
    @classmethod
    def plausible_birthday(cls, value: date | None) -> date | None:
        if value is not None and value < date(1900, 1, 1):
            raise ValueError("birthday must be after 1900-01-01")
        return value


class PointsBalanceOut(BaseModel):
    available: int
    pending: int
    lifetime_earned: int


class BalancesOut(BaseModel):
    points: PointsBalanceOut


class MemberOut(BaseModel):
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
    balances: BalancesOut


class LevelCount(BaseModel):
    level: int
    members: int


class DirectReferral(BaseModel):
    member_id: str
    display_name: str
    joined_at: Timestamp


class ReferralsOut(BaseModel):
    referral_code: str
    referral_link: str
    levels: list[LevelCount]
    direct: list[DirectReferral]
    points_from_referrals: int


# --- ledger -------------------------------------------------------------------------------------

class SourceOut(BaseModel):
    type: str
    id: str


class EntryOut(BaseModel):
    entry_id: str
    member_id: str
    seq: int
    asset: Literal["points"]
    amount: int
    bucket: Literal["available", "pending"]
    kind: Literal["purchase", "referral", "release", "refund", "redemption", "adjustment"]
    level: int | None
    source: SourceOut
    rule_version: int | None
    created_at: Timestamp
    available_at: Timestamp | None
    prev_hash: str
    hash: str


class LedgerPageOut(BaseModel):
    items: list[EntryOut]
    next_cursor: str | None


class VerificationOut(BaseModel):
    member_id: str
    entries: int
    chain_valid: bool
    balances_match: bool
    head_hash: str
    first_invalid_seq: int | None = Field(description="The first seq where the chain is not intact, or null")
    problems: list[str]


# --- purchases and refunds ----------------------------------------------------------------------

class PurchaseItem(Request):
    sku: Annotated[Text, StringConstraints(max_length=64)]
    name: Annotated[Text, StringConstraints(max_length=200)] | None = None
    category: Annotated[Text, StringConstraints(max_length=64)] | None = None
    quantity: Annotated[StrictInt, Field(ge=1, le=10_000)] = 1
    amount_minor: Annotated[StrictInt, Field(ge=0, le=MAX_MINOR)] | None = None


class PurchaseIn(Request):
    order_id: ClientId
    member_id: MemberId
    amount_minor: Annotated[StrictInt, Field(gt=0, le=MAX_MINOR)]
    currency: Currency
    occurred_at: AwareDatetime
    items: Annotated[list[PurchaseItem], Field(max_length=200)] | None = None


class CreditOut(BaseModel):
    member_id: str
    level: int
    points: int
    bucket: Literal["available", "pending"]
    available_at: Timestamp | None


class PurchaseOut(BaseModel):
    order_id: str
    member_id: str
    amount_minor: int
    currency: str
    occurred_at: Timestamp
    rule_version: int
    credits: list[CreditOut]


class RefundIn(Request):
    refund_id: ClientId
    amount_minor: Annotated[StrictInt, Field(gt=0, le=MAX_MINOR)]


class ReversalOut(BaseModel):
    member_id: str
    level: int
    points: int


class RefundOut(BaseModel):
    refund_id: str
    order_id: str
    amount_minor: int
    reversals: list[ReversalOut]


# --- redemptions and adjustments ----------------------------------------------------------------

class RedemptionIn(Request):
    points: Annotated[StrictInt, Field(gt=0, le=MAX_POINTS)]
    reward: Annotated[Text, StringConstraints(max_length=100)]


class RedemptionOut(BaseModel):
    redemption_id: str
    points: int
    reward: str
    balances: BalancesOut


class AdjustmentIn(Request):
    adjustment_id: ClientId
    member_id: MemberId
    points: Annotated[StrictInt, Field(ge=-MAX_POINTS, le=MAX_POINTS)]
    reason: Annotated[Text, StringConstraints(max_length=500)]

    @field_validator("points")
    @classmethod
    def not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("an adjustment of 0 points changes nothing")
        return value


# --- program ------------------------------------------------------------------------------------

class ProgramIn(Request):
    version: StrictInt | None = Field(
        default=None, description="If given, publish only if this is still the current version (else 409).")
    points_per_currency_unit: Annotated[StrictInt, Field(ge=0, le=10_000)]
    referral_rates_bps: Annotated[list[Annotated[StrictInt, Field(ge=0, le=10_000)]],
                                  Field(max_length=MAX_REFERRAL_LEVELS)]
    hold_days: Annotated[StrictInt, Field(ge=0, le=365)]
    currency: Currency


class ProgramOut(BaseModel):
    version: int
    points_per_currency_unit: int
    referral_rates_bps: list[int]
    hold_days: int
    currency: str


# --- outreach -----------------------------------------------------------------------------------

OutreachKind = Literal["thank_you", "greeting", "checkin", "replacement", "birthday", "holiday", "points_available",
                       "winback", "campaign"]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
LocalizedText = Annotated[dict[Locale, Annotated[Text, StringConstraints(max_length=5000)]],
                          Field(min_length=1, max_length=20,
                                description="Text per locale, e.g. {\"en\": …, \"zh-CN\": …}")]


class PreferencesIn(Request):
    """Only the fields sent change."""

    marketing_opt_in: StrictBool | None = None
    notices: StrictBool | None = Field(default=None, description="Account notices such as points becoming available")
    locale: Locale | None = None
    time_zone: TimeZone | None = None
    birthday: date | None = None


class PreferencesOut(BaseModel):
    marketing_opt_in: bool
    notices: bool
    locale: str
    time_zone: str | None
    birthday: date | None


class OutreachSettingsIO(Request):
    min_gap_hours: Annotated[StrictInt, Field(ge=0, le=720)] = 48
    max_per_30_days: Annotated[StrictInt, Field(ge=0, le=100, description="0: no monthly limit")] = 4
    quiet_start: ClockTime = "20:00"
    quiet_end: ClockTime = "09:00"
    greeting_after_days: Annotated[StrictInt, Field(ge=0, le=60)] = 2
    checkin_after_days: Annotated[StrictInt, Field(ge=0, le=90)] = 7
    winback_after_days: Annotated[StrictInt, Field(ge=1, le=3650)] = 60
    default_time_zone: TimeZone = "Asia/Shanghai"

    @model_validator(mode="after")
    def _a_window_remains(self) -> OutreachSettingsIO:
        if self.quiet_start == self.quiet_end:
            raise ValueError("quiet_start and quiet_end must differ: the sending window would be empty")
        try:
            ZoneInfo(self.default_time_zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone {self.default_time_zone!r}") from None
        return self


class ReplacementRuleIO(Request):
    sku: Annotated[Text, StringConstraints(max_length=64)] | None = None
    category: Annotated[Text, StringConstraints(max_length=64)] | None = None
    interval_days: Annotated[StrictInt, Field(ge=1, le=3650)]
    name: Annotated[Text, StringConstraints(max_length=200)] | None = None

    @model_validator(mode="after")
    def one_target(self) -> ReplacementRuleIO:
        if (self.sku is None) == (self.category is None):
            raise ValueError("a rule names either a sku or a category, not both")
        return self


class ReplacementRulesIO(Request):
    rules: Annotated[list[ReplacementRuleIO], Field(max_length=500)]


class HolidayIO(Request):
    holiday_id: ClientId
    date: date
    names: LocalizedText


class HolidaysIO(Request):
    holidays: Annotated[list[HolidayIO], Field(max_length=366)]


class CampaignFilter(Request):
    locales: list[Locale] | None = None
    joined_after: AwareDatetime | None = None
    joined_before: AwareDatetime | None = None
    purchased_categories: Annotated[list[Annotated[Text, StringConstraints(max_length=64)]],
                                    Field(max_length=50)] | None = None
    min_lifetime_points: Annotated[StrictInt, Field(ge=0)] | None = None


class CampaignIn(Request):
    campaign_id: ClientId
    headline: LocalizedText
    message: LocalizedText
    filter: CampaignFilter | None = None


class CampaignCounts(BaseModel):
    targeted: int
    sent: int
    suppressed: int
    dropped: int
    failed: int


class CampaignOut(BaseModel):
    campaign_id: str
    headline: dict[str, str]
    message: dict[str, str]
    filter: dict[str, Any] | None = None
    created_at: Timestamp
    counts: CampaignCounts


class PreviewIn(Request):
    member_id: MemberId
    kind: OutreachKind
    occasion: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description=("What the email is about: the order id (order_id:sku for a replacement), the "
                                   "holiday id or the campaign id; birthdays and win-back need none"))


class PreviewOut(BaseModel):
    subject: str
    text: str
    html: str
    headers: dict[str, str]


class MessageOut(BaseModel):
    kind: str
    occasion: str
    status: Literal["planned", "deferred", "sending", "sent", "failed", "suppressed", "dropped"]
    reason: str
    updated_at: Timestamp
    subject: str | None = None
    sent_at: Timestamp | None = None
    until: Timestamp | None = None
    history: list[dict[str, str]]


class MessagesOut(BaseModel):
    items: list[MessageOut]

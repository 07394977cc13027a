"""Outreach's HTTP models: the cadence and its rules, replacement intervals, holidays, campaigns, previews,
and a member's send log."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, ConfigDict, Field, StrictInt, StringConstraints, model_validator

from loyalty.http import examples
from loyalty.http.types import Answer, ClientId, Email, Locale, MemberId, Name, Prose, Request, Timestamp, TimeZone
from loyalty.outreach.policy import ReminderKind

ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
                      Field(description="HH:MM, local time", examples=["20:00"])]
LocalizedText = Annotated[dict[Locale, Annotated[Prose, StringConstraints(max_length=5000)]],
                          Field(min_length=1, max_length=20, description="Text per locale",
                                examples=[{"zh-CN": "春节快乐", "en": "Happy Spring Festival"}])]
Category = Annotated[Name, StringConstraints(max_length=64)]


class OutreachSettings(Request):
    """The cadence of follow-ups, the cap on marketing, quiet hours and the default time zone."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"min_gap_hours": 48, "max_per_30_days": 4, "quiet_start": "21:00", "quiet_end": "09:00",
         "greeting_after_days": 2, "checkin_after_days": 7, "winback_after_days": 60,
         "default_time_zone": "Asia/Shanghai", "staff_email": "service@shop.example", "staff_locale": "zh-CN"}]})

    min_gap_hours: Annotated[StrictInt, Field(ge=0, le=720)] = 48
    max_per_30_days: Annotated[StrictInt, Field(ge=0, le=100, description="0: no monthly limit")] = 4
    quiet_start: ClockTime = "20:00"
    quiet_end: ClockTime = "09:00"
    greeting_after_days: Annotated[StrictInt, Field(ge=0, le=60)] = 2
    checkin_after_days: Annotated[StrictInt, Field(ge=0, le=90)] = 7
    winback_after_days: Annotated[StrictInt, Field(ge=1, le=3650)] = 60
    default_time_zone: TimeZone = "Asia/Shanghai"
    staff_email: Email | None = Field(default=None, description=(
        "The shop's staff address: a complaint left without a reply for 24 hours is sent there, once "
        "(docs/feedback.md). null: no alert is sent"))
    staff_locale: Literal["zh-CN", "en"] = Field(default="zh-CN", description="The language of the staff's alerts")

    @model_validator(mode="after")
    def _a_window_remains(self) -> OutreachSettings:
        if self.quiet_start == self.quiet_end:
            raise ValueError("quiet_start and quiet_end must differ: the sending window would be empty")
        try:
            ZoneInfo(self.default_time_zone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise ValueError(f"unknown time zone {self.default_time_zone!r}") from None
        return self


GuideLink = Annotated[str, StringConstraints(max_length=500, pattern=r'^https://[^\s<>"\x00-\x1f\x7f]+$'),
                      Field(description="An https page with more (a manual, a video)",
                            examples=["https://shop.example/guides/wipers"])]


class Guide(Request):
    """How to use a product, in one language: plain text (sent as text, HTML-escaped in the HTML part)."""

    title: Annotated[Name, StringConstraints(max_length=120)]
    text: Annotated[Prose, StringConstraints(max_length=1000)]
    link: GuideLink | None = None


class Guides(Request):
    """A usage guide per language, sent with the thank-you and the check-in of an order with this product or
    category; a member whose language has none gets the other (docs/reminders.md)."""

    zh_cn: Guide | None = Field(default=None, alias="zh-CN")  # by its name only, as the contract spells it
    en: Guide | None = None

    @model_validator(mode="after")
    def one_language(self) -> Guides:
        if self.zh_cn is None and self.en is None:
            raise ValueError("a guide is in zh-CN, en or both")
        return self


class ReplacementRule(Request):
    sku: Annotated[Name, StringConstraints(max_length=64)] | None = None
    category: Category | None = None
    interval_days: Annotated[StrictInt, Field(ge=1, le=3650)] | None = Field(
        default=None, description="Days after a purchase to remind the member to replace it; null: no reminder")
    name: Annotated[Name, StringConstraints(max_length=200)] | None = None
    guide: Guides | None = None

    @model_validator(mode="after")
    def one_target(self) -> ReplacementRule:
        if (self.sku is None) == (self.category is None):
            raise ValueError("a rule names either a sku or a category, not both")
        if self.interval_days is None and self.guide is None:
            raise ValueError("a rule has an interval_days, a guide, or both")
        return self


class ReplacementRules(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"rules": [
        {"category": "tyres", "interval_days": 1460, "name": "Tyres"},
        {"sku": "WIPER-22", "interval_days": 365, "name": "Wiper blades", "guide": {
            "en": {"title": "Fitting your wiper blades",
                   "text": "Lift the arm, press the clip and slide the old blade off. Wipe the glass with the "
                           "new blade dry once before the first rain.",
                   "link": "https://shop.example/guides/wipers"},
            "zh-CN": {"title": "雨刮片安装指南",
                      "text": "抬起雨刮臂,按下卡扣取下旧刮片。首次下雨前先用新刮片干刮一次玻璃。"}}},
        {"category": "filters", "guide": {"zh-CN": {"title": "滤芯使用说明", "text": "安装前请冲洗滤芯五分钟。"}}}]}]})

    rules: Annotated[list[ReplacementRule], Field(max_length=500)]


class Holiday(Request):
    holiday_id: ClientId
    date: date
    names: LocalizedText


class HolidayCalendar(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"holidays": [
        {"holiday_id": "spring-2027", "date": "2027-02-06",
         "names": {"zh-CN": "春节", "en": "Spring Festival"}}]}]})

    holidays: Annotated[list[Holiday], Field(max_length=366)]


class CampaignFilter(Request):
    locales: Annotated[list[Locale], Field(max_length=50)] | None = None
    joined_after: AwareDatetime | None = None
    joined_before: AwareDatetime | None = None
    purchased_categories: Annotated[list[Category], Field(max_length=50)] | None = None
    min_lifetime_points: Annotated[StrictInt, Field(ge=0)] | None = None


class NewCampaign(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "campaign_id": examples.CAMPAIGN_ID, "headline": {"zh-CN": "春季轮胎节", "en": "Spring tyre week"},
        "message": {"zh-CN": "老客户换轮胎享八折。", "en": "20 % off new tyres for returning customers."},
        "filter": {"purchased_categories": ["tyres"]}}]})

    campaign_id: ClientId
    headline: LocalizedText
    message: LocalizedText
    filter: CampaignFilter | None = None


class CampaignCounts(Answer):
    targeted: int
    sent: int
    suppressed: int
    dropped: int
    failed: int


class Campaign(Answer):
    campaign_id: str
    headline: dict[str, str]
    message: dict[str, str]
    filter: CampaignFilter | None = None
    created_at: Timestamp
    counts: CampaignCounts


class NewEmailPreview(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"member_id": examples.MEMBER_ID, "kind": "checkin", "occasion": examples.ORDER_ID}]})

    member_id: MemberId
    kind: ReminderKind
    occasion: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(
        default=None, description=("What the email is about: the order id (order_id:sku for a replacement), the "
                                   "holiday id or the campaign id; birthdays and win-back need none"))


class EmailPreview(Answer):
    subject: str
    text: str
    html: str
    headers: dict[str, str]


class MessageEvent(Answer):
    at: Timestamp
    status: str
    reason: str


class Message(Answer):
    kind: ReminderKind
    occasion: str
    status: Literal["planned", "deferred", "sending", "sent", "failed", "suppressed", "dropped"]
    reason: str
    updated_at: Timestamp
    subject: str | None = None
    sent_at: Timestamp | None = None
    until: Timestamp | None = None
    history: list[MessageEvent] = Field(default_factory=list)


class MessageLog(Answer):
    items: list[Message]

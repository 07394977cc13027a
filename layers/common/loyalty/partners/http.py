"""Partners' and links' HTTP models."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import ConfigDict, Field, StrictInt, StringConstraints

from loyalty.http import examples
from loyalty.http.auth import MEMBER_ID_PATTERN
from loyalty.http.types import MAX_MINOR, Answer, ClientId, Email, Locale, Name, Prose, Request, Timestamp

PartnerId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=MEMBER_ID_PATTERN),
                      Field(description="The partner's id (chosen by the admin; a partner's token carries it as its "
                                        "`partner_id` claim)", examples=[examples.PARTNER_ID])]
PartnerIdInPath = Annotated[PartnerId, Path(openapi_examples=examples.shown(examples.PARTNER_ID,
                                                                            "Wang's tyre vlog, the example partner"))]
Label = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")]


class NewPartner(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"partner_id": examples.PARTNER_ID, "name": "Wang's tyre vlog", "email": "wang@example.com",
         "commission_bps": 500, "attribution_days": 30}]})

    partner_id: PartnerId
    name: Annotated[Name, StringConstraints(max_length=200)]
    email: Email
    commission_bps: Annotated[StrictInt, Field(ge=0, le=10000, description="Commission in basis points of a "
                                                                           "purchase's amount (500: 5 %)")]
    attribution_days: Annotated[StrictInt, Field(ge=1, le=365, description="Purchases this many days after a "
                                                                           "sign-up through the partner earn it")]


class Partner(Answer):
    partner_id: str
    name: str
    email: str
    commission_bps: int
    attribution_days: int
    created_at: Timestamp


class PartnerList(Answer):
    items: list[Partner]


class NewLink(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"link_id": examples.LINK_ID, "campaign": "spring", "sub_id": "post-42"}]})

    link_id: ClientId = Field(description="The client's id of the link: the same id and body again answer the same "
                                          "link (200)")
    campaign: Label | None = Field(default=None, description="What the partner's report groups clicks, sign-ups "
                                                             "and sales by", examples=["spring"])
    sub_id: Label | None = Field(default=None, description="A finer label: the post, the video, the placement",
                                 examples=["post-42"])
    partner_id: PartnerId | None = Field(default=None, description="Admin only: the partner the link is for. "
                                                                   "Without it the link is the caller's own (a "
                                                                   "partner's, or a member's)")


class LinkOwner(Answer):
    type: str = Field(description="`partner` or `member`", examples=["partner"])
    id: str = Field(description="The partner id or the member id")


class Link(Answer):
    code: str = Field(description="15 characters with a check (mistyped or made-up codes are refused before any "
                                  "look-up); people may type it at sign-up as `referral_code` (any case, spaces "
                                  "and dashes ignored)", examples=[examples.LINK_CODE])
    link_id: str
    url: str = Field(description="`<REFERRAL_LINK_BASE>/r/{code}`: the landing page")
    qr_svg: str = Field(description="The URL of the link's QR code as SVG (for print)")
    qr_png: str = Field(description="The URL of the link's QR code as PNG (for chat apps)")
    owner: LinkOwner
    campaign: str | None
    sub_id: str | None
    created_at: Timestamp
    disclosure: str = Field(description="What the owner must show next to the link (FTC 16 CFR 255.5), in the "
                                        "request's language (Accept-Language: zh-CN or en) or the default")
    disclosures: dict[str, str] = Field(description="The disclosure in every locale, by locale")


class LinkList(Answer):
    items: list[Link]


Disclosure = Annotated[Prose, StringConstraints(max_length=500)]


class LinkSettings(Request):
    """Links' settings: the disclosure each kind of owner must show, by locale (admin; defaults ship)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"disclosures": {"partner": {"en": "I earn a commission if you buy through this link.",
                                     "zh-CN": "通过此链接购买，我会获得佣金。"},
                         "member": {"en": "I get reward points if you join and buy through this link.",
                                    "zh-CN": "通过此链接注册并购买，我会获得积分奖励。"}}}]})

    disclosures: dict[Annotated[str, StringConstraints(pattern=r"^(partner|member)$")],
                      Annotated[dict[Locale, Disclosure], Field(min_length=1, max_length=20)]] = Field(
        description="By owner type (`partner`, `member`), by locale (BCP 47): the text. Locales left out keep "
                    "the defaults (en and zh-CN)")

    @classmethod
    def of(cls, result: Any) -> LinkSettings:
        return cls.model_validate({"disclosures": {k: dict(v) for k, v in result.disclosures.items()}})


class Offer(Answer):
    shop_name: str
    points_per_currency_unit: int
    currency: str
    text: str = Field(description="The offer in the page's language")


class Landing(Answer):
    code: str
    click_id: str = Field(description="The click, signed: the app sends it with the sign-up")
    owner: LinkOwner
    offer: Offer


# --- what partners earn (loyalty.partners.commission, loyalty.partners.report) ---------------------------

class CommissionBalance(Answer):
    """A partner's commission, in minor units of the programme's currency."""

    available: int = Field(description="Payable now; counts pending commission whose hold has ended (may be below "
                                       "zero after a refund of a purchase whose commission was paid out)")
    pending: int = Field(description="On hold for the programme's hold (refunds can still take it back)")
    lifetime_earned: int = Field(description="Every commission less refunds' reversals; payouts not subtracted")
    queued: int = Field(description="Commission purchases (less their refunds) have queued that the poster has not "
                                    "posted yet, usually for a second or two; not in available or pending yet")

    @classmethod
    def of(cls, view: Any) -> CommissionBalance:
        return cls(available=view["available"], pending=view["pending"], lifetime_earned=view.earned,
                   queued=view.queued or 0)


class NewPayout(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"payout_id": examples.PAYOUT_ID, "amount_minor": 30000}]})

    payout_id: ClientId
    amount_minor: Annotated[StrictInt, Field(gt=0, le=MAX_MINOR, description="Integer minor units, at most what "
                                                                              "is available")]


class Payout(Answer):
    payout_id: str
    partner_id: str
    amount_minor: int
    available_minor: int = Field(description="What is left available after the payout")


class ReportRow(Answer):
    key: str = Field(description="The local day (YYYY-MM-DD), the campaign or the sub-id the row sums (`\"\"`: "
                                 "links without one)", examples=["spring"])
    clicks: int = Field(ge=0)
    unique_clicks: int = Field(ge=0, description="Distinct visitors per link and day, summed")
    sign_ups: int = Field(ge=0, description="Members who signed up through the links")
    purchases: int = Field(ge=0, description="Their purchases that earned a commission (within the window), counted "
                                             "on the day they occurred")
    revenue_minor: int = Field(description="Those purchases' amounts net of every refund so far")
    commission_pending_minor: int = Field(description="Their commission still on hold, net of refunds")
    commission_available_minor: int = Field(description="Their commission past its hold, net of refunds")
    commission_reversed_minor: int = Field(ge=0, description="Taken back by refunds")


class PartnerReport(Answer):
    """A partner's figures by local day (every day of the period), campaign or sub-id (docs/partners.md)."""

    partner_id: str
    first_day: str = Field(description="The period's first local day (`from`)")
    last_day: str = Field(description="The period's last local day (`to`)")
    group_by: str
    time_zone: str
    rows: list[ReportRow]
    total: ReportRow

    @classmethod
    def of(cls, report: Any) -> PartnerReport:
        return cls.model_validate({
            "partner_id": report.partner_id, "first_day": report.period.first.isoformat(),
            "last_day": report.period.last.isoformat(), "group_by": report.group_by, "time_zone": report.time_zone,
            "rows": report.rows, "total": report.total})

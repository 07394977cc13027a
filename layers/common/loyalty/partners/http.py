"""Partners' and links' HTTP models."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import ConfigDict, Field, StrictInt, StringConstraints

from loyalty.http import examples
from loyalty.http.auth import MEMBER_ID_PATTERN
from loyalty.http.types import Answer, ClientId, Email, Locale, Name, Prose, Request, Timestamp

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

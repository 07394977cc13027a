"""The counter's HTTP models: the member's card, and the look-up's query."""

from __future__ import annotations

from pydantic import Field

from loyalty.counter.domain import Card
from loyalty.http.types import Answer, Timestamp
from loyalty.shared.clock import to_rfc3339


class MemberCard(Answer):
    member_code: str = Field(description="Today's code (15 characters): staff scan or type it at the till "
                                         "(`GET /v1/members?member_code=…`, `POST /v1/redemptions`). It changes at "
                                         "local midnight in the programme's time zone; the day before's works "
                                         "until 01:00.", examples=["K7Q2M9XD4F7H2K9"])
    qr_svg: str = Field(description="An SVG document: a QR code of `member_code`")
    renews_at: Timestamp = Field(description="When the next code takes over (local midnight, in UTC): fetch the "
                                             "card again after it")

    @classmethod
    def of(cls, card: Card) -> MemberCard:
        from loyalty.counter.qr import qr_svg  # segno: imported by this route only, when it answers

        return cls(member_code=card.member_code, qr_svg=qr_svg(card.member_code), renews_at=to_rfc3339(card.renews_at))

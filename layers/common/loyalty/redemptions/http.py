"""Redemptions' HTTP models."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StrictInt, StringConstraints, model_validator

from loyalty.http.types import MAX_POINTS, Answer, MemberId, Name, Request
from loyalty.ledger.http import Balances
from loyalty.redemptions.domain import Redeemed


class NewRedemption(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"points": 300, "reward": "free-car-wash"}]})

    points: Annotated[StrictInt, Field(gt=0, le=MAX_POINTS)]
    reward: Annotated[Name, StringConstraints(max_length=100), Field(description="What the points buy")]
    member_id: MemberId | None = Field(default=None, description=(
        "At the counter (staff, the till): the member whose points are spent, sent with `member_code`. Without "
        "it, the caller's own points (the till, not a member, must name one). A member may name only itself."))
    member_code: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = Field(
        default=None, examples=["K7Q2M9XD4F7H2K9"], description=(
            "With `member_id`: the code on the member's card today (`GET /v1/members/me/card`), proof the member "
            "is there. Not current → `422 member-code-invalid`, nothing written."))

    @model_validator(mode="after")
    def code_with_member(self) -> NewRedemption:
        if (self.member_id is None) != (self.member_code is None):
            raise ValueError("member_id and member_code go together: send both (at the counter) or neither")
        return self


class Redemption(Answer):
    redemption_id: str
    points: int
    reward: str
    balances: Balances

    @classmethod
    def of(cls, redeemed: Redeemed) -> Redemption:
        return cls(redemption_id=redeemed.redemption_id, points=redeemed.points, reward=redeemed.reward,
                   balances=Balances.of(redeemed.balances))

"""Redemptions' HTTP models."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StrictInt,
    StringConstraints,
    model_serializer,
    model_validator,
)

from loyalty.coupons.http import Coupon
from loyalty.http import examples
from loyalty.http.types import MAX_POINTS, Answer, ClientId, MemberId, Name, Request
from loyalty.ledger.http import Balances
from loyalty.redemptions.domain import Redeemed


class NewRedemption(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"points": 300, "reward": "free-car-wash"}, {"reward_id": examples.REWARD_ID}]})

    points: Annotated[StrictInt, Field(gt=0, le=MAX_POINTS)] | None = Field(
        default=None, description="The points to spend, with `reward` (or send `reward_id` instead)")
    reward: Annotated[Name, StringConstraints(max_length=100)] | None = Field(
        default=None, description="What the points buy (with `points`; with `reward_id`, the catalogue's name)")
    reward_id: ClientId | None = Field(default=None, description=(
        "A reward of the catalogue (`GET /v1/rewards`) instead of `points`: its price is spent and one unit of its "
        "stock taken in the same write (`409 out-of-stock`); a coupon reward issues its coupon. Unknown → `404`."))
    member_id: MemberId | None = Field(default=None, description=(
        "At the counter (staff, the till): the member whose points are spent, sent with `member_code`. Without "
        "it, the caller's own points (the till, not a member, must name one). A member may name only itself."))
    member_code: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = Field(
        default=None, examples=["K7Q2M9XD4F7H2K9"], description=(
            "With `member_id`: the code on the member's card today (`GET /v1/members/me/card`), proof the member "
            "is there. Not current → `422 member-code-invalid`, nothing written."))

    @model_validator(mode="after")
    def points_or_reward(self) -> NewRedemption:
        if (self.points is None) == (self.reward_id is None):
            raise ValueError("send exactly one of points (with reward) and reward_id")
        if self.points is not None and self.reward is None:
            raise ValueError("points go with reward: what they buy")
        return self

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
    reward_id: str | None = Field(default=None, description="The catalogue's reward, when bought by `reward_id`")
    coupon: Coupon | None = Field(default=None, description="The coupon a coupon reward issued")

    @model_serializer(mode="wrap")
    def _without_the_catalogues_nulls(self, handler: SerializerFunctionWrapHandler):
        """A redemption by points answers exactly what it always did (no null reward_id or coupon). Unannotated: the
        document keeps the model's own schema."""
        dumped: dict[str, Any] = handler(self)
        return {k: v for k, v in dumped.items() if v is not None or k not in ("reward_id", "coupon")}

    @classmethod
    def of(cls, redeemed: Redeemed) -> Redemption:
        return cls(redemption_id=redeemed.redemption_id, points=redeemed.points, reward=redeemed.reward,
                   balances=Balances.of(redeemed.balances), reward_id=redeemed.reward_id,
                   coupon=Coupon.of(redeemed.coupon) if redeemed.coupon is not None else None)

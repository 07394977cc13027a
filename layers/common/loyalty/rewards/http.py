"""The catalogue's HTTP models."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import ConfigDict, Field, StrictInt, StringConstraints

from loyalty.http import examples
from loyalty.http.types import MAX_POINTS, Answer, ClientId, Name, Request
from loyalty.rewards.domain import Reward

RewardIdInPath = Annotated[ClientId, Path(openapi_examples=examples.shown(examples.REWARD_ID, "A free car wash"))]


class RewardTerms(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"name": "Free car wash", "points": 300, "stock": 100, "coupon_template_id": None},
        {"name": "20 off your next wash", "points": 150, "stock": None, "coupon_template_id": "welcome-20"}]})

    name: Annotated[Name, StringConstraints(max_length=100)]
    points: Annotated[StrictInt, Field(gt=0, le=MAX_POINTS)] = Field(description="Its price in points")
    stock: Annotated[StrictInt, Field(ge=0, le=10**9)] | None = Field(
        default=None, description="Units left (each redemption takes one); null: unlimited")
    coupon_template_id: ClientId | None = Field(
        default=None, description="A coupon reward: the template of the coupon each redemption issues")

    def reward(self, reward_id: str) -> Reward:
        return Reward(reward_id=reward_id, **self.model_dump())


class RewardAnswer(Answer):
    reward_id: str
    name: str
    points: int
    stock: int | None = Field(description="Units left; null: unlimited")
    coupon_template_id: str | None


class RewardList(Answer):
    items: list[RewardAnswer]

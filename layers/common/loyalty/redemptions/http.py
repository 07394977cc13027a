"""Redemptions' HTTP models."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StrictInt, StringConstraints

from loyalty.http.types import MAX_POINTS, Answer, Name, Request
from loyalty.ledger.http import Balances
from loyalty.redemptions.domain import Redeemed


class NewRedemption(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"points": 300, "reward": "free-car-wash"}]})

    points: Annotated[StrictInt, Field(gt=0, le=MAX_POINTS)]
    reward: Annotated[Name, StringConstraints(max_length=100), Field(description="What the points buy")]


class Redemption(Answer):
    redemption_id: str
    points: int
    reward: str
    balances: Balances

    @classmethod
    def of(cls, redeemed: Redeemed) -> Redemption:
        return cls(redemption_id=redeemed.redemption_id, points=redeemed.points, reward=redeemed.reward,
                   balances=Balances.of(redeemed.balances))

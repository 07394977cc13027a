"""Adjustments' HTTP model (the answer is the entry written: ``ledger.http.Entry``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StrictInt, StringConstraints, field_validator

from loyalty.http import examples
from loyalty.http.types import MAX_POINTS, ClientId, MemberId, Prose, Request


class NewAdjustment(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"adjustment_id": examples.ADJUSTMENT_ID, "member_id": examples.MEMBER_ID, "points": 500,
         "reason": "Goodwill: the car wash was closed on the member's booked day"}]})

    adjustment_id: ClientId
    member_id: MemberId
    points: Annotated[StrictInt, Field(ge=-MAX_POINTS, le=MAX_POINTS, description="Positive adds, negative takes")]
    reason: Annotated[Prose, StringConstraints(max_length=500)]

    @field_validator("points")
    @classmethod
    def not_zero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("an adjustment of 0 points changes nothing")
        return value

"""The programme's HTTP models."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StrictInt

from loyalty.http.types import Answer, Currency, Request
from loyalty.members.domain import MAX_LEVELS
from loyalty.program.domain import ProgramRules

Rate = Annotated[StrictInt, Field(ge=0, le=10_000, description="basis points: 1000 = 10 %")]


class NewProgramVersion(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"points_per_currency_unit": 1, "referral_rates_bps": [1000, 500, 200], "hold_days": 7,
         "currency": "CNY"}]})

    version: StrictInt | None = Field(
        default=None, description="If given, publish only if this is still the current version (else 409).")
    points_per_currency_unit: Annotated[StrictInt, Field(ge=0, le=10_000)]
    referral_rates_bps: Annotated[list[Rate], Field(max_length=MAX_LEVELS,
                                                    description="One rate per ancestor level, nearest first")]
    hold_days: Annotated[StrictInt, Field(ge=0, le=365)]
    currency: Currency


class Program(Answer):
    version: int
    points_per_currency_unit: int
    referral_rates_bps: list[int]
    hold_days: int
    currency: str

    @classmethod
    def of(cls, rules: ProgramRules) -> Program:
        return cls(version=rules.version, points_per_currency_unit=rules.points_per_currency_unit,
                   referral_rates_bps=list(rules.referral_rates_bps), hold_days=rules.hold_days,
                   currency=rules.currency)

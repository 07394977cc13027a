"""The programme's HTTP models."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StrictInt

from loyalty.http.types import Answer, Currency, Request
from loyalty.members.domain import MAX_LEVELS
from loyalty.program.domain import ProgramRules


class ComplianceProfile(StrEnum):
    """`default`: no rule beyond the programme's own; `cn-wechat`: a shop selling through WeChat, where at most two
    referral levels may earn (more is refused with `422 compliance-profile`)."""

    DEFAULT = "default"
    CN_WECHAT = "cn-wechat"


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
    compliance_profile: ComplianceProfile | None = Field(
        default=None, description="The rules the programme must keep; left out: the current one (a fresh install's "
                                  "is `default`)")


class Program(Answer):
    version: int
    points_per_currency_unit: int
    referral_rates_bps: list[int]
    hold_days: int
    currency: str
    compliance_profile: ComplianceProfile

    @classmethod
    def of(cls, rules: ProgramRules) -> Program:
        return cls(version=rules.version, points_per_currency_unit=rules.points_per_currency_unit,
                   referral_rates_bps=list(rules.referral_rates_bps), hold_days=rules.hold_days,
                   currency=rules.currency, compliance_profile=ComplianceProfile(rules.compliance_profile))

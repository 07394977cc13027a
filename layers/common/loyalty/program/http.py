"""The programme's HTTP models."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Self
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, Field, RootModel, StrictInt, field_validator, model_validator

from loyalty.http.types import Answer, Currency, Name, Request, Timestamp, TimeZone
from loyalty.members.domain import MAX_LEVELS
from loyalty.program.domain import ActionRule, ExpiryRule, Multiplier, ProgramRules, SurpriseRule


class ComplianceProfile(StrEnum):
    """`default`: no rule beyond the programme's own; `cn-wechat`: a shop selling through WeChat, where at most two
    referral levels may earn (more is refused with `422 compliance-profile`)."""

    DEFAULT = "default"
    CN_WECHAT = "cn-wechat"


Rate = Annotated[StrictInt, Field(ge=0, le=10_000, description="basis points: 1000 = 10 %")]


Cap = Annotated[StrictInt, Field(ge=1, le=1_000_000)]
ActionName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$", description=(
    "`review`, `share`, `check_in`, `lead_converted`, or any name the admin adds (lower case, digits, _)"))]
Multiple = Annotated[StrictInt, Field(ge=0, le=100_000, description="basis points: 20000 = double points")]


class ActionSettings(Request):
    """Points for one action and its caps (each counts actions, in local days and months; left out: no cap)."""

    points: Annotated[StrictInt, Field(ge=0, le=1_000_000)]
    per_day: Cap | None = None
    per_month: Cap | None = None
    lifetime: Cap | None = None

    @classmethod
    def of(cls, rule: ActionRule) -> Self:
        return cls(points=rule.points, per_day=rule.per_day, per_month=rule.per_month, lifetime=rule.lifetime)

    def rule(self) -> ActionRule:
        return ActionRule(self.points, self.per_day, self.per_month, self.lifetime)


class MultiplierSettings(Request):
    """Points times `bps` / 10000 for purchases recorded on the local dates `from`..`to` (both included), or on
    every month's `day_of_month`."""

    model_config = ConfigDict(populate_by_name=True)

    name: Annotated[Name, Field(max_length=60)]
    bps: Multiple
    start: dt.date | None = Field(default=None, alias="from")
    end: dt.date | None = Field(default=None, alias="to")
    day_of_month: Annotated[StrictInt, Field(ge=1, le=31)] | None = None

    @model_validator(mode="after")
    def one_kind(self) -> Self:
        if self.day_of_month is not None and (self.start is not None or self.end is not None):
            raise ValueError("a multiplier has either from and to, or day_of_month, not both")
        if self.day_of_month is None and (self.start is None or self.end is None):
            raise ValueError("a multiplier needs from and to, or day_of_month")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValueError("to is on or after from")
        return self

    @classmethod
    def of(cls, m: Multiplier) -> Self:
        return cls.model_validate({"name": m.name, "bps": m.bps, "from": m.start, "to": m.end,
                                   "day_of_month": m.day_of_month})

    def rule(self) -> Multiplier:
        return Multiplier(self.name, self.bps, self.start, self.end, self.day_of_month)


# --- surprises (docs/earning-surprise.md) ----------------------------------------------------------------------
class SurpriseSettings(Request):
    """Surprise points drawn, provably fairly, on each purchase: a hit with `chance_bps` / 10000, worth `min_points`
    to `max_points`, while the local day's `daily_budget` of surprise points lasts. `chance_bps` 0 turns them off."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"chance_bps": 1000, "min_points": 10, "max_points": 100, "daily_budget": 5000}]})

    chance_bps: Rate
    min_points: Annotated[StrictInt, Field(ge=0, le=1_000_000)]
    max_points: Annotated[StrictInt, Field(ge=0, le=1_000_000)]
    daily_budget: Annotated[StrictInt, Field(ge=0, le=1_000_000_000)]

    @model_validator(mode="after")
    def ordered(self) -> Self:
        if self.min_points > self.max_points:
            raise ValueError("max_points is at least min_points")
        return self

    @classmethod
    def of(cls, rule: SurpriseRule) -> Self:
        return cls(chance_bps=rule.chance_bps, min_points=rule.min_points, max_points=rule.max_points,
                   daily_budget=rule.daily_budget)

    def rule(self) -> SurpriseRule:
        return SurpriseRule(self.chance_bps, self.min_points, self.max_points, self.daily_budget)


SURPRISES_OFF = SurpriseRule(0, 0, 0, 0)  # what `"surprise": null` publishes: none (not stored)
# --- end surprises -------------------------------------------------------------------------------------------------


class ExpirySettings(Request):
    """Points expire at the end of the local day `months` after they become available, oldest first; only points that
    become available after the rule is published (a minute after, once every server has read it) ever expire.
    `months` 0 turns expiry off for points from then on (points already dated keep their date)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"months": 12}]})

    months: Annotated[StrictInt, Field(ge=0, le=120)]


class Expiry(Answer):
    months: int
    since: Annotated[Timestamp, Field(description="Points that become available after this instant expire")]

    @classmethod
    def of(cls, rule: ExpiryRule) -> Expiry:
        return cls(months=rule.months, since=rule.since)


class ActionTable(RootModel[Annotated[dict[ActionName, ActionSettings], Field(max_length=50)]]):
    """Points for actions by name (`POST /v1/actions`)."""

    model_config = ConfigDict(defer_build=True)


def _known_zone(value: str | None) -> str | None:
    if value is not None:
        try:
            ZoneInfo(value)
        except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"unknown time zone {value!r}") from None
    return value


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
    timezone: TimeZone | None = Field(default=None, description=(
        "The time zone whose local dates the earning rules count (caps per day, multipliers); left out: the current "
        "one (a fresh install's is Asia/Shanghai)"))
    actions: ActionTable | None = Field(
        default=None, description="Points for actions (`POST /v1/actions`); left out: the current ones; `{}`: none")
    multipliers: Annotated[list[MultiplierSettings], Field(max_length=100)] | None = Field(
        default=None, description="Calendar multipliers of the buyer's points; left out: the current ones; `[]`: none")

    surprise: SurpriseSettings | None = Field(default=None, description=(
        "Surprise points on purchases (docs/earning-surprise.md); left out: the current ones; `null` or "
        "`chance_bps` 0: none"))
    expiry: ExpirySettings | None = Field(default=None, description=(
        "When points expire (docs/earning-expiry.md); left out: the current rule; `null` or `months` 0: never"))

    _zone = field_validator("timezone")(classmethod(lambda cls, v: _known_zone(v)))

    def changes(self) -> dict[str, object]:
        """What this body changes, as ``ProgramService.publish`` takes it (None: keep the current value)."""
        return {
            "points_per_currency_unit": self.points_per_currency_unit, "referral_rates_bps": self.referral_rates_bps,
            "hold_days": self.hold_days, "currency": self.currency,
            "compliance_profile": self.compliance_profile.value if self.compliance_profile else None,
            "timezone": self.timezone,
            "actions": None if self.actions is None else tuple(sorted((k, v.rule())
                                                                    for k, v in self.actions.root.items())),
            "multipliers": None if self.multipliers is None else tuple(m.rule() for m in self.multipliers),
            "surprise": self.surprise.rule() if self.surprise is not None
            else SURPRISES_OFF if "surprise" in self.model_fields_set else None,
            "expiry": ExpiryRule(self.expiry.months) if self.expiry is not None
            else ExpiryRule(0) if "expiry" in self.model_fields_set else None,
        }


class Program(Answer):
    version: int
    points_per_currency_unit: int
    referral_rates_bps: list[int]
    hold_days: int
    currency: str
    compliance_profile: ComplianceProfile
    timezone: str
    actions: dict[str, ActionSettings]
    multipliers: list[MultiplierSettings]
    surprise: SurpriseSettings | None = Field(default=None, exclude_if=lambda value: value is None,
                                              description="Surprise points on purchases; absent: none")
    expiry: Expiry | None = Field(default=None, exclude_if=lambda value: value is None,
                                  description="When points expire; absent: never")

    @classmethod
    def of(cls, rules: ProgramRules) -> Program:
        return cls(version=rules.version, points_per_currency_unit=rules.points_per_currency_unit,
                   referral_rates_bps=list(rules.referral_rates_bps), hold_days=rules.hold_days,
                   currency=rules.currency, compliance_profile=ComplianceProfile(rules.compliance_profile),
                   timezone=rules.timezone, actions={k: ActionSettings.of(v) for k, v in rules.actions},
                   multipliers=[MultiplierSettings.of(m) for m in rules.multipliers],
                   surprise=SurpriseSettings.of(rules.surprises) if rules.surprises is not None else None,
                   expiry=Expiry.of(rules.expiry) if rules.expiry is not None else None)

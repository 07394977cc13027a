"""The simulations' HTTP models (``POST /v1/program/simulations``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Self

from pydantic import ConfigDict, Field, StrictInt

from loyalty.http.types import Answer, ClientId, Currency, Request, Timestamp
from loyalty.members.domain import MAX_LEVELS
from loyalty.program.http import NewProgramVersion, Program, Rate
from loyalty.simulations.domain import Simulation


class ProposedProgram(NewProgramVersion):
    """The rules to rehearse: the body of `PUT /v1/program`, every key optional (left out: the current programme's).
    `currency` may only name the current one (the purchases were recorded in it); `version` is not used."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"referral_rates_bps": [1500, 500],
         "multipliers": [{"name": "Member day", "day_of_month": 8, "bps": 30000}]}]})

    version: None = Field(default=None, description="Not used by a simulation")
    points_per_currency_unit: Annotated[StrictInt, Field(ge=0, le=10_000)] | None = None  # type: ignore[assignment]
    referral_rates_bps: Annotated[list[Rate], Field(
        max_length=MAX_LEVELS, description="One rate per ancestor level, nearest first")] | None = None  # type: ignore[assignment]
    hold_days: Annotated[StrictInt, Field(ge=0, le=365)] | None = None  # type: ignore[assignment]
    currency: Currency | None = None  # type: ignore[assignment]


class NewSimulation(Request):
    model_config = ConfigDict(populate_by_name=True, json_schema_extra={"examples": [
        {"simulation_id": "sim-2026-11-rates", "program": {"referral_rates_bps": [1500, 500]},
         "from": "2026-11-01", "to": "2026-11-30"}]})

    simulation_id: ClientId
    program: ProposedProgram
    start: dt.date = Field(alias="from", description="The first local date (programme time zone) replayed")
    end: dt.date = Field(alias="to", description="The last local date replayed (at most 366 days in all)")

    def request(self) -> dict[str, Any]:
        """What the simulation's id is bound to (a replay must send the same)."""
        return {"program": self.program.model_dump(mode="json", exclude_none=True), "from": self.start.isoformat(),
                "to": self.end.isoformat()}


class Side(Answer):
    points_issued: int = Field(description="Points credited for the period's purchases, net of their refunds")
    by_level: list[int] = Field(description="The same by level: 0 the buyers, 1 their referrers, …")


class Change(Answer):
    points: int = Field(description="proposed − current")
    bps: int | None = Field(description="The change in basis points of current (rounded down); null when current "
                                        "is 0")


class Earners(Answer):
    total: int = Field(description="Members who earn anything in either column (buyers and referrers)")
    more: int
    fewer: int
    same: int
    more_bps: int = Field(description="The share of them who would earn more, basis points rounded down")
    fewer_bps: int


class SimulatedDay(Answer):
    date: dt.date = Field(description="Local date of recording")
    purchases: int
    current: int
    proposed: int


class Progress(Answer):
    parts: int = Field(description="The parts the recorded purchases are read in, side by side")
    parts_done: int
    purchases_replayed: int


class SimulationAnswer(Answer):
    """A simulation: `running` (with `progress`), then `done` with its figures (`null` until then)."""

    model_config = ConfigDict(populate_by_name=True)

    simulation_id: str
    status: Literal["running", "done"]
    start: dt.date = Field(alias="from")
    end: dt.date = Field(alias="to")
    timezone: str = Field(description="The time zone of the period's dates and of by_day")
    program: Program = Field(description="The proposed rules as replayed (`version`: the version they change)")
    progress: Progress
    created_at: Timestamp
    finished_at: Timestamp | None = None
    purchases: int | None = Field(default=None, description="Purchases recorded in the period")
    members: int | None = Field(default=None, description="Distinct buyers among them")
    current: Side | None = Field(default=None, description="What was issued for them")
    proposed: Side | None = Field(default=None, description="What the proposed rules would have issued")
    change: Change | None = None
    earners: Earners | None = None
    by_day: list[SimulatedDay] | None = None
    not_replayed: list[str] | None = Field(default=None, description="Rules a replay does not apply yet")

    @classmethod
    def of(cls, result: Any) -> Self:
        simulation: Simulation = result
        progress = {"parts": 0, "parts_done": 0, "purchases_replayed": 0, **simulation.progress}
        return cls.model_validate({
            "simulation_id": simulation.simulation_id, "status": simulation.status,
            "from": simulation.period.first, "to": simulation.period.last, "timezone": simulation.period.zone,
            "program": Program.of(simulation.rules), "progress": progress, "created_at": simulation.created_at,
            "finished_at": simulation.finished_at, **(simulation.result or {})})

"""Actions' HTTP models: an action staff record, its answer (with the ledger's ``Entry``), a member's counts."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import ConfigDict, Field, StringConstraints

from loyalty.actions.domain import ActionCount, ActionRecorded
from loyalty.http import examples
from loyalty.http.types import Answer, ClientId, MemberId, Name, Request
from loyalty.ledger.http import Entry

ACTION_ID = "RV-2026-000123"  # the example member's review of her car wash, as the till records it
ActionName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$"), Field(
    description="An action the programme defines (`review`, `share`, `check_in`, `lead_converted`, or one the admin "
                "added)", examples=["review"])]
Ref = Annotated[Name, StringConstraints(max_length=200), Field(
    description="What the action was about (the order reviewed, the URL shared): up to 200 printable characters, "
                "kept in the action's record", examples=[examples.ORDER_ID])]


class NewAction(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"action_id": ACTION_ID, "member_id": examples.MEMBER_ID, "action": "review", "ref": examples.ORDER_ID}]})

    action_id: ClientId
    member_id: MemberId
    action: ActionName
    ref: Ref | None = None


class CheckInOptions(Request):
    """A check-in says nothing but who (the token) and when (the moment it is recorded): no body, or ``{}``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{}]})


class ActionAnswer(Answer):
    action_id: str = Field(examples=[ACTION_ID], description="The client's id; a check-in's is `check_in/<local date>`")
    points: int = Field(ge=0, examples=[20], description="What the action earned (the programme's points for it)")
    entry: Entry | None = Field(description="The entry that posted the points to `available`; null for an action "
                                            "worth 0 points")

    @classmethod
    def of(cls, result: Any) -> Self:
        found: ActionRecorded = result
        return cls(action_id=found.action_id, points=found.points,
                   entry=Entry.of(found.entry) if found.entry is not None else None)


class ActionStanding(Answer):
    action: str = Field(examples=["review"])
    points: int = Field(examples=[20])
    today: int = Field(description="Actions counted in today's local date (the programme's time zone)", examples=[1])
    this_month: int = Field(description="… in this local month", examples=[3])
    lifetime: int = Field(description="… ever", examples=[12])
    per_day: int | None = Field(description="The caps; null: none", examples=[1])
    per_month: int | None = Field(examples=[5])
    lifetime_cap: int | None = Field(examples=[100])

    @classmethod
    def of(cls, result: Any) -> Self:
        found: ActionCount = result
        return cls.model_validate(found, from_attributes=True)


class ActionStandings(Answer):
    actions: list[ActionStanding]

    @classmethod
    def of(cls, result: Any) -> Self:
        return cls(actions=[ActionStanding.of(c) for c in result])

"""Segments' HTTP models: a member's segment, the grid of counts, a cell's members, staff's manual segment and the
thresholds."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Annotated, Any, Self

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import ConfigDict, Field, StrictInt

from loyalty.http import examples
from loyalty.http.types import Answer, Request, Timestamp
from loyalty.segments.domain import CELLS, WINDOW_DAYS, SegmentSettings

Cell = StrEnum("Cell", {c: c for c in CELLS})  # type: ignore[misc]
Cell.__doc__ = "A class A–D (by 12-month spend rank) and a grade 1–3 (by recency)"
CellInPath = Annotated[Cell, Path(openapi_examples=examples.shown("A1", "The best spenders who bought lately"))]


class SegmentClass(StrEnum):
    """By 12-month spend rank: A the top 10% of spenders, B the next 20%, C the next 30%, D the rest and those who
    never bought (the settings' shares)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"


class SegmentGrade(IntEnum):
    """By recency: 1 bought within 30 days, 2 within 180, 3 longer ago or never (the settings' days)."""

    RECENT = 1
    LAPSING = 2
    LAPSED = 3


class SegmentSource(StrEnum):
    """computed: the daily recompute's; manual: set by staff, kept until dropped."""

    COMPUTED = "computed"
    MANUAL = "manual"


class MemberSegment(Answer):
    """A member's segment."""

    class_: SegmentClass = Field(alias="class")
    grade: SegmentGrade
    source: SegmentSource
    computed_at: Timestamp | None = Field(description="computed: the recompute that last confirmed it (null: no "
                                                      "recompute has run since the member joined); manual: when "
                                                      "staff set it")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    @classmethod
    def of(cls, result: Any) -> Self:
        at = result.manual_at if result.manual_cell else result.computed_at
        return cls.model_validate({"class": result.klass, "grade": result.grade, "source": result.source,
                                   "computed_at": at})


class SegmentOfMember(MemberSegment):
    member_id: str

    @classmethod
    def of(cls, result: Any) -> Self:
        return cls.model_validate({**MemberSegment.of(result).model_dump(by_alias=True),
                                   "member_id": result.member_id})


class SegmentGrid(Answer):
    """Members per cell: ``counts["A1"]`` … ``counts["D3"]``, and per class and grade."""

    counts: dict[str, int] = Field(examples=[{c: n for c, n in zip(CELLS, (12, 20, 8, 30, 41, 25, 50, 70, 60,
                                                                           5, 90, 400), strict=True)}])
    by_class: dict[str, int]
    by_grade: dict[str, int]
    total: int
    computed_at: Timestamp | None = Field(description="When the last recompute finished; null: none has run")

    @classmethod
    def of(cls, result: Any) -> Self:
        counts = {c: int(result.counts.get(c, 0)) for c in CELLS}
        by_class = {k: sum(n for c, n in counts.items() if c[0] == k) for k in "ABCD"}
        by_grade = {g: sum(n for c, n in counts.items() if c[1] == g) for g in "123"}
        return cls(counts=counts, by_class=by_class, by_grade=by_grade, total=sum(counts.values()),
                   computed_at=result.computed_at)


class CellMembers(Answer):
    items: list[SegmentOfMember]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last")

    @classmethod
    def of(cls, result: Any) -> Self:
        found, after = result
        return cls(items=[SegmentOfMember.of(s) for s in found], next_cursor=after)


class ManualSegment(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"class": "A", "grade": 1}]})

    class_: SegmentClass = Field(alias="class")
    grade: SegmentGrade


Percent = Annotated[StrictInt, Field(ge=1, le=100)]
Days = Annotated[StrictInt, Field(ge=0, le=WINDOW_DAYS)]


class Thresholds(Request):
    """The share of the spenders (cumulative, in percent of N, rounded up) in A, A+B and A+B+C, and the recency
    limits of grades 1 and 2 in days. Used from the next recompute on."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"a_percent": 10, "b_percent": 30, "c_percent": 60, "grade1_days": 30, "grade2_days": 180}]})

    a_percent: Percent
    b_percent: Percent
    c_percent: Percent
    grade1_days: Days
    grade2_days: Days

    def settings(self) -> SegmentSettings:
        return SegmentSettings(self.a_percent, self.b_percent, self.c_percent, self.grade1_days, self.grade2_days)


class ThresholdsAnswer(Answer):
    a_percent: int
    b_percent: int
    c_percent: int
    grade1_days: int
    grade2_days: int

    @classmethod
    def of(cls, result: Any) -> Self:
        return cls.model_validate(vars(result))

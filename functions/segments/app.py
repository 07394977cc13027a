"""Segments (docs/segments.md): the grid of counts per class and grade and a cell's members (staff), staff's manual
segment of a member, and the thresholds (admin)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from loyalty.http import examples
from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import ADMIN_ONLY, STAFF_ONLY
from loyalty.http.types import MemberIdInPath
from loyalty.segments.http import (
    CellInPath,
    CellMembers,
    ManualSegment,
    SegmentGrid,
    SegmentOfMember,
    Thresholds,
    ThresholdsAnswer,
)
from loyalty.shared.errors import ValidationProblem
from loyalty.wiring import segments

router = Router(tags=["Segments"])

PageSize = Annotated[int, Query(ge=1, le=100, description="Members per page",
                                openapi_examples=examples.shown(50, "A page of 50"))]
Cursor = Annotated[str | None, Query(max_length=600, pattern=r"^[A-Za-z0-9_-]+$",
                                     description="next_cursor of the previous page of this cell's list",
                                     openapi_examples=examples.shown(
                                         "eyJjZWxsIjogIkExIiwgIm1lbWJlcl9pZCI6ICI0ZjJjMWU4YS05YjNkLTRjN2UtYTFmMC02ZDViMmU5Y"
                                         "zhhNDEiLCAicGsiOiAiU0VHIzRmMmMxZThhLTliM2QtNGM3ZS1hMWYwLTZkNWIyZTljOGE0MSIsICJz"
                                         "ayI6ICJTRUdNRU5UIn0",
                                         "After Li Wei in A1 (an example: use the next_cursor a page gave)"))]


@router.operation("GET", "/v1/segments", operation_id="readSegments", summary="Members per segment (staff)",
                  access=STAFF_ONLY, model=SegmentGrid,
                  description="Counts per cell (class A–D × grade 1–3), per class and per grade, as of the daily "
                              "recompute, with staff's manual segments since. A member who joined since the last "
                              "recompute is counted from the next.")
def read_segments() -> Response[SegmentGrid]:
    return answer(SegmentGrid, segments().grid())


@router.operation("GET", "/v1/segments/<cell>/members", operation_id="listSegmentMembers",
                  summary="The members of one cell (staff)", access=STAFF_ONLY, model=CellMembers, refusals=(422,),
                  description="By member id, a page at a time.")
def list_cell(cell: CellInPath, limit: PageSize = 50, cursor: Cursor = None) -> Response[CellMembers]:
    try:
        found = segments().members_of(cell.value, limit=limit, cursor=cursor)
    except ValueError:
        raise ValidationProblem("This cursor was not given by this list.", loc=["query", "cursor"]) from None
    return answer(CellMembers, found)


@router.operation("PUT", "/v1/members/<member_id>/segment", operation_id="setMemberSegment",
                  summary="Set a member's segment by hand (staff)", access=STAFF_ONLY, model=SegmentOfMember,
                  body=True, refusals=(404, 422),
                  description="Kept by every daily recompute until dropped (`DELETE`). Setting the same again "
                              "changes nothing.")
def set_segment(member_id: MemberIdInPath, body: ManualSegment) -> Response[SegmentOfMember]:
    return answer(SegmentOfMember, segments().set_manual(member_id, f"{body.class_.value}{int(body.grade)}",
                                                         router.caller().sub))


@router.operation("DELETE", "/v1/members/<member_id>/segment", operation_id="dropMemberSegment",
                  summary="Drop a member's manual segment (staff)", access=STAFF_ONLY, model=SegmentOfMember,
                  refusals=(404, 422),
                  description="The member is at once in the segment the last recompute computed for them. Dropping "
                              "none changes nothing.")
def drop_segment(member_id: MemberIdInPath) -> Response[SegmentOfMember]:
    return answer(SegmentOfMember, segments().drop_manual(member_id))


@router.operation("GET", "/v1/segments/settings", operation_id="readSegmentSettings",
                  summary="The segments' thresholds (admin)", access=ADMIN_ONLY, model=ThresholdsAnswer)
def read_settings() -> Response[ThresholdsAnswer]:
    return answer(ThresholdsAnswer, segments().settings())


@router.operation("PUT", "/v1/segments/settings", operation_id="changeSegmentSettings",
                  summary="Change the segments' thresholds (admin)", access=ADMIN_ONLY, model=ThresholdsAnswer,
                  body=True, refusals=(422,),
                  description="The percentages must rise (a ≤ b ≤ c), and so must the days; used from the next "
                              "daily recompute on.")
def change_settings(body: Thresholds) -> Response[ThresholdsAnswer]:
    return answer(ThresholdsAnswer, segments().change_settings(body.settings()))


app = create_app(router)
handler = lambda_entry(app)

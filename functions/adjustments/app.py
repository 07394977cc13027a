"""Adjustments: an admin corrects a member's points with a reason, as a new entry."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from loyalty.adjustments.http import NewAdjustment
from loyalty.http.api import Router, create_app, lambda_entry, written
from loyalty.http.auth import ADMIN_ONLY
from loyalty.ledger.http import Entry
from loyalty.wiring import services

router = Router(tags=["Adjustments"])


@router.operation("POST", "/v1/adjustments", operation_id="adjustPoints", summary="Adjust a member's points (admin)",
                  access=ADMIN_ONLY, ok=201, model=Entry, replays=True, body=True, refusals=(404, 409))
def adjust(body: NewAdjustment) -> Response[Entry]:
    outcome = services().adjustments.adjust(adjustment_id=body.adjustment_id, member_id=body.member_id,
                                            points=body.points, reason=body.reason, requested_by=router.caller().sub)
    return written(Entry, outcome, "Adjustments")


app = create_app(router)
handler = lambda_entry(app)

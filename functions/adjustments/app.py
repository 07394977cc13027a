"""Adjustments: an admin corrects a member's points with a reason, as a new entry."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from loyalty.http.api import caller, create_app, lambda_entry, responses, write_response
from loyalty.http.schemas import AdjustmentIn, EntryOut
from loyalty.wiring import services

router = APIGatewayHttpRouter()


@router.post("/v1/adjustments", summary="Adjust a member's points (admin)", tags=["Adjustments"],
             responses=responses(201, EntryOut, 404, 409))
def adjust(body: AdjustmentIn) -> Response[EntryOut]:
    who = caller(router)
    who.require_admin()
    outcome = services().ledger.adjust(adjustment_id=body.adjustment_id, member_id=body.member_id,
                                       points=body.points, reason=body.reason, requested_by=who.sub)
    return write_response(outcome, "Adjustments")


app = create_app(router)
handler = lambda_entry(app)

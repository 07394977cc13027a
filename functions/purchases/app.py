"""Purchases and refunds, recorded by the point-of-sale server (staff)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from loyalty.http.api import caller, create_app, lambda_entry, responses, write_response
from loyalty.http.schemas import ClientId, PurchaseIn, PurchaseOut, RefundIn, RefundOut
from loyalty.wiring import services

router = APIGatewayHttpRouter()
TAGS = ["Purchases"]


@router.post("/v1/purchases", summary="Record a purchase; credit the buyer and the referral tree above",
             tags=TAGS, responses=responses(201, PurchaseOut, 404, 409))
def record_purchase(body: PurchaseIn) -> Response[PurchaseOut]:
    who = caller(router)
    who.require_staff()
    outcome = services().ledger.record_purchase(
        order_id=body.order_id, member_id=body.member_id, amount_minor=body.amount_minor, currency=body.currency,
        occurred_at=body.occurred_at,
        items=[i.model_dump(mode="json", exclude_none=True) for i in body.items] if body.items is not None else None,
        requested_by=who.sub,
    )
    return write_response(outcome, "PurchasesRecorded")


@router.post("/v1/purchases/<order_id>/refunds", summary="Refund part or all of a purchase", tags=TAGS,
             responses=responses(201, RefundOut, 404, 409))
def record_refund(order_id: Annotated[ClientId, Path()], body: RefundIn) -> Response[RefundOut]:
    who = caller(router)
    who.require_staff()
    outcome = services().ledger.record_refund(
        order_id=order_id, refund_id=body.refund_id, amount_minor=body.amount_minor, requested_by=who.sub)
    return write_response(outcome, "RefundsRecorded")


app = create_app(router)
handler = lambda_entry(app)

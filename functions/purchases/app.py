"""Purchases and refunds, recorded by the point-of-sale server (staff)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from loyalty.http.api import Router, create_app, lambda_entry, written
from loyalty.http.auth import STAFF_ONLY
from loyalty.http.types import ClientId
from loyalty.purchases.http import PurchaseIn, PurchaseOut, RefundIn, RefundOut
from loyalty.wiring import services

router = Router(tags=["Purchases"])


@router.operation("POST", "/v1/purchases", operation_id="recordPurchase",
                  summary="Record a purchase; credit the buyer and the referral tree above", access=STAFF_ONLY,
                  ok=201, model=PurchaseOut, replays=True, body=True, refusals=(404, 409, 503))
def record_purchase(body: PurchaseIn) -> Response[PurchaseOut]:
    outcome = services().purchases.record(
        order_id=body.order_id, member_id=body.member_id, amount_minor=body.amount_minor, currency=body.currency,
        occurred_at=body.occurred_at,
        items=[i.model_dump(mode="json", exclude_none=True) for i in body.items] if body.items is not None else None,
        requested_by=router.caller().sub,
    )
    return written(PurchaseOut, outcome, "PurchasesRecorded")


@router.operation("POST", "/v1/purchases/<order_id>/refunds", operation_id="recordRefund",
                  summary="Refund part or all of a purchase", access=STAFF_ONLY, ok=201, model=RefundOut,
                  replays=True, body=True, refusals=(404, 409, 503))
def record_refund(order_id: Annotated[ClientId, Path()], body: RefundIn) -> Response[RefundOut]:
    outcome = services().purchases.refund(
        order_id=order_id, refund_id=body.refund_id, amount_minor=body.amount_minor, requested_by=router.caller().sub)
    return written(RefundOut, outcome, "RefundsRecorded")


app = create_app(router)
handler = lambda_entry(app)

"""Purchases and refunds, recorded by the point-of-sale server (staff)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path

from loyalty.http import examples
from loyalty.http.api import Router, create_app, lambda_entry, written
from loyalty.http.auth import STAFF_ONLY
from loyalty.http.types import ClientId
from loyalty.purchases.http import NewPurchase, NewRefund, Purchase, Refund
from loyalty.wiring import services

router = Router(tags=["Purchases"])
# Up to 200 items with 200-character names: about 290 KB of UTF-8 at their longest; the whole purchase is kept in
# one DynamoDB item (400 KB at most).
PURCHASE_MAX_BODY = 512 * 1024
OrderId = Annotated[ClientId, Path(openapi_examples=examples.shown(examples.ORDER_ID, "The example purchase"))]


@router.operation("POST", "/v1/purchases", operation_id="recordPurchase",
                  summary="Record a purchase; credit the buyer and the referral tree above", access=STAFF_ONLY,
                  ok=201, model=Purchase, replays=True, body=True, refusals=(404, 409), max_body=PURCHASE_MAX_BODY)
def record_purchase(body: NewPurchase) -> Response[Purchase]:
    outcome = services().purchases.record(
        order_id=body.order_id, member_id=body.member_id, amount_minor=body.amount_minor, currency=body.currency,
        occurred_at=body.occurred_at,
        items=[i.model_dump(mode="json", exclude_none=True) for i in body.items] if body.items is not None else None,
        requested_by=router.caller().sub, device_id=body.device_id, payment_fingerprint=body.payment_fingerprint,
        stored_value_minor=body.stored_value_minor,
    )
    return written(Purchase, outcome, "PurchasesRecorded")


@router.operation("POST", "/v1/purchases/<order_id>/refunds", operation_id="recordRefund",
                  summary="Refund part or all of a purchase", access=STAFF_ONLY, ok=201, model=Refund,
                  replays=True, body=True, refusals=(404, 409))
def record_refund(order_id: OrderId, body: NewRefund) -> Response[Refund]:
    outcome = services().purchases.refund(
        order_id=order_id, refund_id=body.refund_id, amount_minor=body.amount_minor, requested_by=router.caller().sub)
    return written(Refund, outcome, "RefundsRecorded")


app = create_app(router)
handler = lambda_entry(app)

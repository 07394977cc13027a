"""Redemptions: a member spends its own available points, exactly once per Idempotency-Key."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from loyalty.errors import IdempotencyKeyRequired
from loyalty.http.api import caller, create_app, lambda_entry, responses, write_response
from loyalty.http.schemas import ClientId, RedemptionIn, RedemptionOut
from loyalty.wiring import services

router = APIGatewayHttpRouter()


@router.post("/v1/redemptions", summary="Redeem the caller's available points", tags=["Redemptions"],
             responses=responses(201, RedemptionOut, 400, 404, 409))
def redeem(body: RedemptionIn,
           idempotency_key: Annotated[ClientId | None, Header(alias="Idempotency-Key")] = None,
           ) -> Response[RedemptionOut]:
    who = caller(router)
    if idempotency_key is None:
        raise IdempotencyKeyRequired("Send an Idempotency-Key header so a retry cannot redeem twice.")
    outcome = services().ledger.redeem(member_id=who.sub, idempotency_key=idempotency_key,
                                       points=body.points, reward=body.reward)
    return write_response(outcome, "Redemptions")


app = create_app(router)
handler = lambda_entry(app)

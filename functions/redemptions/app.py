"""Redemptions: a member spends its own available points, exactly once per Idempotency-Key."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header

from loyalty.http.api import Router, create_app, lambda_entry, written
from loyalty.http.auth import SIGNED_IN
from loyalty.http.types import ClientId
from loyalty.redemptions.http import RedemptionIn, RedemptionOut
from loyalty.shared.errors import IdempotencyKeyRequired
from loyalty.wiring import services

router = Router(tags=["Redemptions"])


@router.operation("POST", "/v1/redemptions", operation_id="redeemPoints",
                  summary="Redeem the caller's available points", access=SIGNED_IN, ok=201, model=RedemptionOut,
                  replays=True, body=True, refusals=(400, 404, 409, 503))
def redeem(body: RedemptionIn,
           idempotency_key: Annotated[ClientId | None, Header(alias="Idempotency-Key")] = None,
           ) -> Response[RedemptionOut]:
    if idempotency_key is None:
        raise IdempotencyKeyRequired("Send an Idempotency-Key header so a retry cannot redeem twice.")
    outcome = services().redemptions.redeem(member_id=router.caller().sub, idempotency_key=idempotency_key,
                                            points=body.points, reward=body.reward)
    return written(RedemptionOut, outcome, "Redemptions")


app = create_app(router)
handler = lambda_entry(app)

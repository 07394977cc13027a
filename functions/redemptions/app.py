"""Redemptions: a member spends its own available points, exactly once per Idempotency-Key."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header

from loyalty.http import examples
from loyalty.http.api import RequiredHeader, Router, create_app, lambda_entry, written
from loyalty.http.auth import SIGNED_IN
from loyalty.http.types import ClientId
from loyalty.redemptions.http import NewRedemption, Redemption
from loyalty.shared.errors import IdempotencyKeyRequired
from loyalty.wiring import services

router = Router(tags=["Redemptions"])
# Required, and refused as the contract says (400 idempotency-key-required) before the request is validated.
IDEMPOTENCY_KEY = RequiredHeader("Idempotency-Key", IdempotencyKeyRequired,
                                 "Send an Idempotency-Key header so a retry cannot redeem twice.")
IdempotencyKey = Annotated[ClientId, Header(
    alias=IDEMPOTENCY_KEY.name,
    description="One per redemption the member means; a retry sends the same key. Without it: 400 "
                "idempotency-key-required",
    openapi_examples=examples.shown(examples.IDEMPOTENCY_KEY, "A key the app drew for this redemption"))]


@router.operation("POST", "/v1/redemptions", operation_id="redeemPoints",
                  summary="Redeem the caller's available points", access=SIGNED_IN, ok=201, model=Redemption,
                  replays=True, body=True, headers=(IDEMPOTENCY_KEY,), refusals=(404, 409))
def redeem(body: NewRedemption, idempotency_key: IdempotencyKey) -> Response[Redemption]:
    outcome = services().redemptions.redeem(member_id=router.caller().sub, idempotency_key=idempotency_key,
                                            points=body.points, reward=body.reward)
    return written(Redemption, outcome, "Redemptions")


app = create_app(router)
handler = lambda_entry(app)

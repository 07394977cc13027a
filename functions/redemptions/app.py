"""Redemptions: a member spends its own available points, or staff spend them for the member at the counter (with
the member's code of the day), exactly once per Idempotency-Key."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header

from loyalty.http import examples
from loyalty.http.api import RequiredHeader, Router, create_app, lambda_entry, written
from loyalty.http.auth import SIGNED_IN_OR_STAFF
from loyalty.http.types import ClientId
from loyalty.redemptions.domain import whose_points
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
                  summary="Redeem the caller's available points, or a member's at the counter (staff)",
                  access=SIGNED_IN_OR_STAFF, ok=201, model=Redemption, replays=True, body=True,
                  headers=(IDEMPOTENCY_KEY,), refusals=(404, 409),
                  description="A member spends its own points. At the counter, staff (and the till) spend a "
                              "member's by sending `member_id` with that member's current `member_code` (the "
                              "card's code of the day): a wrong or stale one → `422 member-code-invalid`, nothing "
                              "written. A member naming another member → `403`. With `reward_id` instead of "
                              "`points`: the catalogue's price, one unit of stock (`409 out-of-stock`) and a coupon "
                              "reward's coupon, in one write; an unknown reward → `404`.")
def redeem(body: NewRedemption, idempotency_key: IdempotencyKey) -> Response[Redemption]:
    caller = router.caller()
    member_id = whose_points(caller.sub, caller_is_staff=caller.is_staff, caller_is_member=caller.may_be_member,
                             member_id=body.member_id)
    outcome = services().redemptions.redeem(member_id=member_id, idempotency_key=idempotency_key,
                                            points=body.points, reward=body.reward, reward_id=body.reward_id,
                                            member_code=body.member_code,
                                            by=caller.sub if body.member_id is not None else None)
    return written(Redemption, outcome, "Redemptions")


app = create_app(router)
handler = lambda_entry(app)

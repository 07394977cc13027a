"""Stored value (储值卡): an admin sets the top-up tiers and the cap; staff top members up and, with the member's code
of the day, withdraw what they hold (docs/wallet.md). Paying with it is part of a purchase."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from loyalty.http import examples
from loyalty.http.api import Router, answer, create_app, lambda_entry, written
from loyalty.http.auth import ADMIN_ONLY, STAFF_ONLY
from loyalty.http.types import MAX_MINOR, MemberId, MemberIdInPath
from loyalty.wallet.http import NewTopUp, NewWithdrawal, TopUp, TopUpQuote, WalletSettings, Withdrawal
from loyalty.wiring import wallet

router = Router(tags=["Stored value"])


@router.operation("GET", "/v1/wallet/settings", operation_id="readWalletSettings",
                  summary="The top-up bonus tiers and the principal cap (admin)", access=ADMIN_ONLY,
                  model=WalletSettings,
                  description="On a fresh install, the defaults: 5,000.00 → 5 %, 3,000.00 → 3 %, 2,000.00 → 1 %; "
                              "principal capped at 5,000.00.")
def read_settings() -> Response[WalletSettings]:
    return answer(WalletSettings, wallet().settings())


@router.operation("PUT", "/v1/wallet/settings", operation_id="changeWalletSettings",
                  summary="Set the top-up bonus tiers and the principal cap (admin)", access=ADMIN_ONLY,
                  model=WalletSettings, body=True,
                  description="Replaces them whole; the next top-up uses them. Thresholds distinct, bonus_bps 0–10000, "
                              "whole numbers, else `422`.")
def change_settings(body: WalletSettings) -> Response[WalletSettings]:
    return answer(WalletSettings, wallet().save_settings(body.settings()))


MemberQuery = Annotated[MemberId, Query(description="Whose top-up",
                                       openapi_examples=examples.shown(examples.MEMBER_ID, "A member"))]
AmountQuery = Annotated[int, Query(gt=0, le=MAX_MINOR, description="The amount the member would pay in, minor units",
                                   openapi_examples=examples.shown(300000, "3,000.00"))]


@router.operation("GET", "/v1/top-ups/quote", operation_id="quoteTopUp",
                  summary="What a top-up would earn, before the member pays (staff)", access=STAFF_ONLY,
                  model=TopUpQuote, refusals=(404, 422),
                  description="The till shows it while the cashier types the amount: the bonus of the tier it "
                              "reaches, the next tier up to offer, and the room the cap leaves. Writes nothing.")
def quote_top_up(member_id: MemberQuery, amount_minor: AmountQuery) -> Response[TopUpQuote]:
    return answer(TopUpQuote, wallet().quote(member_id=member_id, amount_minor=amount_minor))


@router.operation("POST", "/v1/top-ups", operation_id="topUp", summary="Top up a member's stored value (staff)",
                  access=STAFF_ONLY, ok=201, model=TopUp, replays=True, body=True, refusals=(404, 409),
                  description="Adds `amount_minor` to the member's principal and the bonus of the highest tier it "
                              "reaches. Principal past the cap → `422 stored-value-cap`; another currency than the "
                              "programme's → `422`. Exactly once by `top_up_id`. A top-up earns no points.")
def top_up(body: NewTopUp) -> Response[TopUp]:
    outcome = wallet().top_up(top_up_id=body.top_up_id, member_id=body.member_id, amount_minor=body.amount_minor,
                              currency=body.currency, requested_by=router.caller().sub)
    return written(TopUp, outcome, "TopUps")


@router.operation("POST", "/v1/members/<member_id>/stored-value/withdrawals", operation_id="withdrawStoredValue",
                  summary="Pay back a member's principal, forfeiting the bonus (admin, or staff with the member's "
                          "code)",
                  access=STAFF_ONLY, ok=201, model=Withdrawal, replays=True, body=True, refusals=(404, 409),
                  description="Takes all the principal (paid back) and all the bonus (forfeited). Staff send the "
                              "member's current `member_code` (missing, wrong or stale → `422 member-code-invalid`, "
                              "nothing written); an admin may leave it out. Nothing held: `201` with zeros. Exactly "
                              "once by `withdrawal_id`.")
def withdraw(member_id: MemberIdInPath, body: NewWithdrawal) -> Response[Withdrawal]:
    caller = router.caller()
    outcome = wallet().withdraw(member_id=member_id, withdrawal_id=body.withdrawal_id, member_code=body.member_code,
                                code_required=not caller.is_admin, requested_by=caller.sub)
    return written(Withdrawal, outcome, "Withdrawals")


app = create_app(router)
handler = lambda_entry(app)

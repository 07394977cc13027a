"""Actions (docs/earning-actions.md): staff (the till too) credit a member's review, share or converted lead; members
check in once a local day; both earn the programme's points under its caps."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from loyalty.actions.http import ActionAnswer, ActionStandings, CheckInOptions, NewAction
from loyalty.http.api import Router, answer, create_app, lambda_entry, written
from loyalty.http.auth import SIGNED_IN, STAFF_ONLY
from loyalty.http.types import MemberIdInPath
from loyalty.wiring import actions

router = Router(tags=["Actions"])
NOTHING = CheckInOptions()  # a check-in sent without a body


@router.operation("POST", "/v1/actions", operation_id="recordAction", summary="Credit a member's action (staff)",
                  access=STAFF_ONLY, ok=201, model=ActionAnswer, replays=True, body=True, refusals=(404, 409),
                  description="The programme's points for the action, in `available` at once (kind `action`, "
                              "`rule` `action:<name>`), exactly once by `action_id`. Past any of the action's caps "
                              "(per local day, per local month, lifetime; they count actions) → `409 action-capped`; "
                              "an action the current programme does not define → `422 unknown-action`; nothing is "
                              "written either way. An unknown member → `404`.")
def record_action(body: NewAction) -> Response[ActionAnswer]:
    outcome = actions().record(action_id=body.action_id, member_id=body.member_id, action=body.action, ref=body.ref,
                               by=router.caller().sub)
    return written(ActionAnswer, outcome, "ActionRecorded")


@router.operation("POST", "/v1/members/me/check-ins", operation_id="checkIn", summary="Check in for today",
                  access=SIGNED_IN, ok=201, model=ActionAnswer, body=True, refusals=(404, 409),
                  description="No body (or `{}`). Once per local date in the programme's time zone: a second "
                              "check-in that day → `409 action-capped` (not a replay). The programme's `check_in` "
                              "points, as an action; without a `check_in` action → `422 unknown-action`; a caller "
                              "who is not a member yet → `404`.")
def check_in(body: Annotated[CheckInOptions, Body()] = NOTHING) -> Response[ActionAnswer]:
    outcome = actions().check_in(router.caller().sub)
    return written(ActionAnswer, outcome, "CheckedIn")


@router.operation("GET", "/v1/members/me/actions", operation_id="listMyActions",
                  summary="The caller's actions: counts and caps", access=SIGNED_IN, model=ActionStandings,
                  refusals=(404,),
                  description="Each action of the current programme: its points, how many the caller did today, "
                              "this month (local dates in the programme's time zone) and ever, and its caps.")
def my_actions() -> Response[ActionStandings]:
    return answer(ActionStandings, actions().counts(router.caller().sub))


@router.operation("GET", "/v1/members/<member_id>/actions", operation_id="listActions",
                  summary="A member's actions: counts and caps (staff)", access=STAFF_ONLY, model=ActionStandings,
                  refusals=(404, 422))
def member_actions(member_id: MemberIdInPath) -> Response[ActionStandings]:
    return answer(ActionStandings, actions().counts(member_id))


app = create_app(router)
handler = lambda_entry(app)

"""Feedback (docs/feedback.md): members send complaints, suggestions and praise and read the answers; staff list,
answer (the member is emailed the answer) and close them."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from loyalty.feedback.http import (
    FeedbackAnswer,
    FeedbackChange,
    FeedbackIdInPath,
    FeedbackList,
    FeedbackStatus,
    MyFeedback,
    MyFeedbackList,
    NewFeedback,
    NewReply,
)
from loyalty.http import examples
from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import SIGNED_IN, STAFF_ONLY
from loyalty.shared.errors import ValidationProblem
from loyalty.wiring import feedback

router = Router(tags=["Feedback"])

StatusQuery = Annotated[FeedbackStatus, Query(description="open (the inbox to work, oldest first) or closed (the "
                                                          "latest first)",
                                              openapi_examples=examples.shown("open", "The inbox to work"))]
PageSize = Annotated[int, Query(ge=1, le=100, description="Feedback per page",
                                openapi_examples=examples.shown(20, "A page of 20"))]
# The examples are cursors of the shape the lists give (after Li Wei's complaint): each list takes only its own.
Cursor = Annotated[str | None, Query(max_length=600, pattern=r"^[A-Za-z0-9_-]+$",
                                     description="next_cursor of the previous page of this list",
                                     openapi_examples=examples.shown(
                                         "eyJsaXN0ZWQiOiAiMjAyNi0xMS0yM1QwOTozMDowMFojZmItMjAyNi0xMS0yMy0wMDAxIiwgInBrI"
                                         "jogIkZFRURCQUNLI2ZiLTIwMjYtMTEtMjMtMDAwMSIsICJzayI6ICJGRUVEQkFDSyIsICJzdGF0dXM"
                                         "iOiAib3BlbiJ9",
                                         "After Li Wei's complaint in the open inbox (an example: use the next_cursor "
                                         "a page gave)"))]
MyCursor = Annotated[str | None, Query(max_length=600, pattern=r"^[A-Za-z0-9_-]+$",
                                       description="next_cursor of the previous page of this list",
                                       openapi_examples=examples.shown(
                                           "eyJsaXN0ZWQiOiAiMjAyNi0xMS0yM1QwOTozMDowMFojZmItMjAyNi0xMS0yMy0wMDAxIiwgIm1lb"
                                           "WJlcl9pZCI6ICI0ZjJjMWU4YS05YjNkLTRjN2UtYTFmMC02ZDViMmU5YzhhNDEiLCAicGsiOiAiRk"
                                           "VFREJBQ0sjZmItMjAyNi0xMS0yMy0wMDAxIiwgInNrIjogIkZFRURCQUNLIn0",
                                           "After Li Wei's complaint in her own list (an example: use the next_cursor "
                                           "a page gave)"))]


def _cursor_refused() -> ValidationProblem:
    return ValidationProblem("This cursor was not given by this list.", loc=["query", "cursor"])


@router.operation("POST", "/v1/members/me/feedback", operation_id="sendFeedback",
                  summary="Send a complaint, a suggestion or praise", access=SIGNED_IN, ok=201, model=MyFeedback,
                  replays=True, body=True, refusals=(404, 409),
                  description="Exactly once by `feedback_id`: the same body again → `200` and the feedback as it is "
                              "now (with any replies); another body under the id → `409 idempotency-mismatch`. "
                              "`order_id`, if given, must be one of the caller's own purchases (else `422`, whether "
                              "the order is someone else's or unknown); a caller who is not a member yet → `404`. "
                              "A complaint nobody answers within 24 hours alerts the shop's staff address, once.")
def send_feedback(body: NewFeedback) -> Response[MyFeedback]:
    created, kept = feedback().send(body.feedback_id, router.caller().sub, body.kind.value, body.text, body.order_id,
                                    body.rating)
    return answer(MyFeedback, kept, 201 if created else 200)


@router.operation("GET", "/v1/members/me/feedback", operation_id="listMyFeedback",
                  summary="The caller's feedback and the answers to it", access=SIGNED_IN, model=MyFeedbackList,
                  refusals=(422,), description="Newest first, each with staff's replies (oldest first) and its "
                                               "status (`closed` once staff have dealt with it).")
def my_feedback(limit: PageSize = 20, cursor: MyCursor = None) -> Response[MyFeedbackList]:
    try:
        found = feedback().of_member(router.caller().sub, limit=limit, cursor=cursor)
    except ValueError:
        raise _cursor_refused() from None
    return answer(MyFeedbackList, found)


@router.operation("GET", "/v1/feedback", operation_id="listFeedback", summary="Members' feedback (staff)",
                  access=STAFF_ONLY, model=FeedbackList, refusals=(422,),
                  description="`status=open` (the default): the inbox, oldest first; `status=closed`: the latest "
                              "first. Each with its kind, rating, order, replies and whether the staff address was "
                              "alerted about it.")
def list_feedback(status: StatusQuery = FeedbackStatus.OPEN, limit: PageSize = 50,
                  cursor: Cursor = None) -> Response[FeedbackList]:
    try:
        found = feedback().listed(status.value, limit=limit, cursor=cursor)
    except ValueError:
        raise _cursor_refused() from None
    return answer(FeedbackList, found)


@router.operation("POST", "/v1/feedback/<feedback_id>/replies", operation_id="replyToFeedback",
                  summary="Answer a member's feedback (staff)", access=STAFF_ONLY, ok=201, model=FeedbackAnswer,
                  replays=True, body=True, refusals=(404, 409),
                  description="The member is emailed the answer, in their language, once. Exactly once by "
                              "`reply_id`: the same body again → `200`, nothing new; another text under the id → "
                              "`409 idempotency-mismatch`. A closed feedback takes no reply (`409 feedback-closed`); "
                              "nor does one with 20 replies (`409 too-many-replies`).")
def reply(feedback_id: FeedbackIdInPath, body: NewReply) -> Response[FeedbackAnswer]:
    created, kept = feedback().reply(feedback_id, body.reply_id, body.text, router.caller().sub)
    return answer(FeedbackAnswer, kept, 201 if created else 200)


@router.operation("PATCH", "/v1/feedback/<feedback_id>", operation_id="closeFeedback",
                  summary="Close a feedback (staff)", access=STAFF_ONLY, model=FeedbackAnswer, body=True,
                  refusals=(404,), description="It leaves the open list; the member sees it `closed` with its "
                                               "replies. Closing a closed feedback changes nothing.")
def close(feedback_id: FeedbackIdInPath, body: FeedbackChange) -> Response[FeedbackAnswer]:
    return answer(FeedbackAnswer, feedback().close(feedback_id, router.caller().sub))


app = create_app(router)
handler = lambda_entry(app)

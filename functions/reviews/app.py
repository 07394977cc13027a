"""Reviews: referral and partner credits that screening held (docs/screening.md); staff list and decide them."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from loyalty.http import examples
from loyalty.http.api import Router, answer, create_app, lambda_entry
from loyalty.http.auth import STAFF_ONLY
from loyalty.screening.http import NewDecision, ReviewAnswer, ReviewIdInPath, ReviewList, ReviewStatus
from loyalty.shared.errors import ValidationProblem
from loyalty.wiring import reviews

router = Router(tags=["Reviews"])

StatusQuery = Annotated[ReviewStatus, Query(description="open (the queue) or decided",
                                             openapi_examples=examples.shown("open", "The queue to work"))]
PageSize = Annotated[int, Query(ge=1, le=100, description="Reviews per page",
                                openapi_examples=examples.shown(20, "A page of 20"))]
ReviewCursor = Annotated[str | None, Query(max_length=200, pattern=r"^[A-Za-z0-9_-]+$",
                                           description="next_cursor of the previous page",
                                           openapi_examples=examples.shown(
                                               "MjAyNi0xMS0yM1QwOTozMDowMFojcnZfNWQ0MTQwMmFiYzRiMmE3NmI5NzE5ZDkx",
                                               "After the review opened at 2026-11-23T09:30:00Z (an example: use the "
                                               "next_cursor a page gave)"))]


@router.operation("GET", "/v1/reviews", operation_id="listReviews", summary="Credits held for review (staff)",
                  access=STAFF_ONLY, model=ReviewList, refusals=(422,),
                  description="`status=open` (the default): oldest first, the queue to work; `status=decided`: the "
                              "latest decisions first. Each names the held credit, the signals screening found with "
                              "their weights, and the score.")
def list_reviews(status: StatusQuery = "open",
                 limit: PageSize = 50, cursor: ReviewCursor = None) -> Response[ReviewList]:
    try:
        found, after = reviews().reviews(status, limit=limit, cursor=cursor)
    except ValueError:
        raise ValidationProblem("This cursor was not given by this list.", loc=["query", "cursor"]) from None
    return answer(ReviewList, {"items": [ReviewAnswer.of(r) for r in found], "next_cursor": after})


@router.operation("GET", "/v1/reviews/<review_id>", operation_id="readReview", summary="A review (staff)",
                  access=STAFF_ONLY, model=ReviewAnswer, refusals=(404, 422),
                  description="`credit.held` is what the review's lot holds now (refunds reverse from it while it "
                              "is open).")
def read_review(review_id: ReviewIdInPath) -> Response[ReviewAnswer]:
    service = reviews()
    review = service.review(review_id)
    body = ReviewAnswer.of(review, service.held(review))
    return Response(status_code=200, content_type="application/json", body=body)


@router.operation("POST", "/v1/reviews/<review_id>/decision", operation_id="decideReview",
                  summary="Approve or reject a held credit (staff)", access=STAFF_ONLY, model=ReviewAnswer,
                  body=True, refusals=(404, 409, 422),
                  description="`approve`: the credit matures as usual (at once if its hold has ended); `reject`: "
                              "what is left of it is reversed. Once: a decided review → `409 review-closed`.")
def decide_review(review_id: ReviewIdInPath, body: NewDecision) -> Response[ReviewAnswer]:
    decision = "approved" if body.decision == "approve" else "rejected"
    decided = reviews().decide(review_id, decision, body.note, router.caller().sub)
    return answer(ReviewAnswer, decided)


app = create_app(router)
handler = lambda_entry(app)

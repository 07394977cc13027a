"""Feedback's HTTP models: what a member sends and reads back, what staff list, answer and close."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import ConfigDict, Field, StrictInt, StringConstraints

from loyalty.feedback.domain import MAX_TEXT
from loyalty.http import examples
from loyalty.http.types import Answer, ClientId, Prose, Request, Timestamp

FeedbackIdInPath = Annotated[ClientId, Path(openapi_examples=examples.shown(
    examples.FEEDBACK_ID, "Li Wei's complaint about her order (the feedback_id her app chose)"))]


class FeedbackKind(StrEnum):
    """What a member's feedback is."""

    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"
    PRAISE = "praise"


class FeedbackStatus(StrEnum):
    """open: waiting to be dealt with; closed: staff have dealt with it."""

    OPEN = "open"
    CLOSED = "closed"


Text = Annotated[Prose, StringConstraints(max_length=MAX_TEXT), Field(
    description=f"1–{MAX_TEXT} characters; line breaks are kept")]


class NewFeedback(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"feedback_id": examples.FEEDBACK_ID, "kind": "complaint", "order_id": examples.ORDER_ID,
         "text": "The wax left streaks on the bonnet.", "rating": 2}]})

    feedback_id: ClientId = Field(description="The client's id for this feedback, its idempotency key: the same "
                                              "body again answers the same; another body → 409. Unique per shop: "
                                              "a UUID is a good choice")
    kind: FeedbackKind
    order_id: ClientId | None = Field(default=None, description="One of the member's own purchases, if it is "
                                                                "about one")
    text: Text
    rating: Annotated[StrictInt, Field(ge=1, le=5)] | None = Field(default=None, description="1 (worst) to 5")


class NewReply(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"reply_id": examples.FEEDBACK_REPLY_ID,
         "text": "We are sorry. Come by any day this week and we will wash and wax it again, free."}]})

    reply_id: ClientId = Field(description="The client's id for this reply: exactly once by it (the same text "
                                           "again answers the same; another text → 409)")
    text: Text


class FeedbackChange(Request):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"status": "closed"}]})

    status: Literal["closed"] = Field(description="`closed`: dealt with. It leaves the open list; the member sees "
                                                  "it closed. Closing a closed feedback changes nothing")


class MyReply(Answer):
    reply_id: str
    text: str
    replied_at: Timestamp


class StaffReply(MyReply):
    replied_by: str = Field(description="Who replied: the staff person's sub")


def _common(feedback: Any) -> dict[str, Any]:
    return {"feedback_id": feedback.feedback_id, "kind": feedback.kind, "text": feedback.text,
            "order_id": feedback.order_id, "rating": feedback.rating, "status": feedback.status,
            "created_at": feedback.created_at, "first_reply_at": feedback.first_reply_at,
            "closed_at": feedback.closed_at}


class MyFeedback(Answer):
    """A feedback as the member who sent it sees it: the replies, and whether it is closed."""

    feedback_id: str
    kind: FeedbackKind
    text: str
    order_id: str | None
    rating: int | None
    status: FeedbackStatus
    created_at: Timestamp
    first_reply_at: Timestamp | None
    closed_at: Timestamp | None
    replies: list[MyReply]

    @classmethod
    def of(cls, result: Any) -> Self:
        return cls.model_validate({**_common(result), "replies": [
            {"reply_id": r.reply_id, "text": r.text, "replied_at": r.at} for r in result.replies]})


class FeedbackAnswer(Answer):
    """A feedback as staff see it: whose, who replied and closed it, and when the staff address was alerted."""

    feedback_id: str
    member_id: str
    kind: FeedbackKind
    text: str
    order_id: str | None
    rating: int | None
    status: FeedbackStatus
    created_at: Timestamp
    first_reply_at: Timestamp | None
    closed_at: Timestamp | None
    closed_by: str | None
    alerted_at: Timestamp | None = Field(description="When the staff address was alerted that this complaint had "
                                                     "no reply for 24 hours; null: never")
    replies: list[StaffReply]

    @classmethod
    def of(cls, result: Any) -> Self:
        return cls.model_validate({
            **_common(result), "member_id": result.member_id, "closed_by": result.closed_by,
            "alerted_at": result.alerted_at, "replies": [
                {"reply_id": r.reply_id, "text": r.text, "replied_at": r.at, "replied_by": r.by}
                for r in result.replies]})


class FeedbackList(Answer):
    items: list[FeedbackAnswer]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last")

    @classmethod
    def of(cls, result: Any) -> Self:
        found, after = result
        return cls(items=[FeedbackAnswer.of(f) for f in found], next_cursor=after)


class MyFeedbackList(Answer):
    items: list[MyFeedback]
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null on the last")

    @classmethod
    def of(cls, result: Any) -> Self:
        found, after = result
        return cls(items=[MyFeedback.of(f) for f in found], next_cursor=after)

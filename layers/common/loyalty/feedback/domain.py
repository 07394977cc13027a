"""Feedback's rules (docs/feedback.md): what a member sends, what staff answer, when a complaint is overdue.

No I/O. A feedback is keyed by the client's ``feedback_id`` (its idempotency key): the same body again is a replay,
another body under the same id is refused. A reply is keyed by ``reply_id`` inside its feedback, the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from loyalty.shared.clock import parse_rfc3339, to_rfc3339
from loyalty.shared.errors import IdempotencyMismatch, LoyaltyError
from loyalty.shared.once import fingerprint

KINDS = ("complaint", "suggestion", "praise")
OPEN, CLOSED = "open", "closed"
COMPLAINT = "complaint"
ALERT_AFTER = timedelta(hours=24)  # a complaint without a reply this long alerts the shop's staff address
MAX_TEXT = 2000  # characters of a feedback's or a reply's text
MAX_REPLIES = 20  # replies to one feedback: a conversation longer than this belongs on the phone
EXCERPT = 200  # characters of the member's text quoted in emails


class FeedbackClosed(LoyaltyError):
    slug, status, title = "feedback-closed", 409, "The feedback is closed"


class TooManyReplies(LoyaltyError):
    slug, status, title = "too-many-replies", 409, "The feedback has as many replies as it may have"


@dataclass(frozen=True)
class Reply:
    reply_id: str
    text: str
    by: str
    at: str


@dataclass(frozen=True)
class Feedback:
    feedback_id: str
    member_id: str
    kind: str
    text: str
    created_at: str
    fingerprint: str
    order_id: str | None = None
    rating: int | None = None
    status: str = OPEN
    replies: tuple[Reply, ...] = ()
    closed_at: str | None = None
    closed_by: str | None = None
    alerted_at: str | None = None
    version: int = 0

    @property
    def first_reply_at(self) -> str | None:
        return self.replies[0].at if self.replies else None

    @property
    def awaiting_reply(self) -> bool:
        """An open complaint nobody has answered and the staff were not alerted about yet."""
        return self.kind == COMPLAINT and self.status == OPEN and not self.replies and self.alerted_at is None

    def alert_due_at(self) -> datetime | None:
        return parse_rfc3339(self.created_at) + ALERT_AFTER if self.awaiting_reply else None

    def excerpt(self) -> str:
        return self.text if len(self.text) <= EXCERPT else self.text[:EXCERPT - 1] + "…"


def request_of(member_id: str, kind: str, text: str, order_id: str | None, rating: int | None) -> dict[str, Any]:
    """What a submission means (its fingerprint tells a replay from a reused id)."""
    return {"member_id": member_id, "kind": kind, "text": text, "order_id": order_id, "rating": rating}


def new_feedback(feedback_id: str, member_id: str, kind: str, text: str, order_id: str | None, rating: int | None,
                 now: datetime) -> Feedback:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    return Feedback(feedback_id, member_id, kind, text, to_rfc3339(now),
                    fingerprint(request_of(member_id, kind, text, order_id, rating)), order_id, rating)


def same_submission(found: Feedback, asked: Feedback) -> Feedback:
    """The feedback a submission under an existing id answers: the one kept, if the body is the same."""
    if found.fingerprint != asked.fingerprint:
        raise IdempotencyMismatch(f"Feedback {found.feedback_id} was sent with another body.")
    return found


def with_reply(feedback: Feedback, reply_id: str, text: str, by: str, now: datetime) -> tuple[Feedback, bool]:
    """The feedback with this reply, and whether it is new: the same reply again (by id and text) is a replay;
    another text under its id is refused; a closed feedback or one with ``MAX_REPLIES`` takes no new reply."""
    known = next((r for r in feedback.replies if r.reply_id == reply_id), None)
    if known is not None:
        if known.text != text:
            raise IdempotencyMismatch(f"Reply {reply_id} was sent with another text.")
        return feedback, False
    if feedback.status == CLOSED:
        raise FeedbackClosed(f"Feedback {feedback.feedback_id} was closed at {feedback.closed_at}.")
    if len(feedback.replies) >= MAX_REPLIES:
        raise TooManyReplies(f"Feedback {feedback.feedback_id} has {MAX_REPLIES} replies.")
    reply = Reply(reply_id, text, by, to_rfc3339(now))
    return replace(feedback, replies=(*feedback.replies, reply), version=feedback.version + 1), True


def closed(feedback: Feedback, by: str, now: datetime) -> tuple[Feedback, bool]:
    """The feedback closed, and whether that changed it (closing a closed feedback is a replay)."""
    if feedback.status == CLOSED:
        return feedback, False
    return replace(feedback, status=CLOSED, closed_at=to_rfc3339(now), closed_by=by,
                   version=feedback.version + 1), True


def alerted(feedback: Feedback, now: datetime) -> Feedback:
    return replace(feedback, alerted_at=to_rfc3339(now), version=feedback.version + 1)

"""Feedback's use cases (docs/feedback.md): a member sends it, staff list, answer and close it, a schedule alerts the
shop's staff address about a complaint nobody answered in 24 hours.

Each write is one conditional write (the feedback's version, or its id not yet taken), so every retry, replay or race
settles by the write's condition: a reply and its email are written together, once by ``reply_id``; a complaint's
alert is decided once, by the write that records it, whichever of two overlapping runs gets there first.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from loyalty.feedback.domain import (
    ALERT_AFTER,
    CLOSED,
    OPEN,
    Feedback,
    alerted,
    closed,
    new_feedback,
    same_submission,
    with_reply,
)
from loyalty.feedback.store import FeedbackStore
from loyalty.outreach.policy import Reminder, ReminderKind
from loyalty.shared.clock import Clock
from loyalty.shared.errors import NotFound, ValidationProblem
from loyalty.shared.once import RetryPolicy

ALERT_BATCH = 100  # complaints alerted per run at most (the next run takes the rest)


class FeedbackService:
    def __init__(self, store: FeedbackStore, clock: Clock, member_exists: Callable[[str], bool],
                 retry: RetryPolicy | None = None) -> None:
        self._store = store
        self._clock = clock
        self._member_exists = member_exists
        self._retry = retry or RetryPolicy()

    def send(self, feedback_id: str, member_id: str, kind: str, text: str, order_id: str | None,
             rating: int | None) -> tuple[bool, Feedback]:
        """Keep a member's feedback: ``(True, it)``; the same body again: ``(False, it as it is now)``; another body
        under the same id → ``409 idempotency-mismatch``. An order that is not one of the member's own purchases →
        ``422``; a caller who is not a member → ``404``. Refused submissions write nothing."""
        asked = new_feedback(feedback_id, member_id, kind, text, order_id, rating, self._clock.now())
        found = self._retry.run(lambda: self._store.feedback(feedback_id))
        if found is not None:
            return False, same_submission(found, asked)
        if not self._retry.run(lambda: self._member_exists(member_id)):
            raise NotFound("Sign up first: the caller is not a member.")
        if order_id is not None and self._retry.run(lambda: self._store.order_owner(order_id)) != member_id:
            raise ValidationProblem(f"No purchase of yours has order_id {order_id}.", loc=["body", "order_id"])
        if self._retry.run(lambda: self._store.create(asked)):
            return True, asked
        return False, same_submission(self.feedback(feedback_id), asked)  # a twin got there first

    def feedback(self, feedback_id: str) -> Feedback:
        found = self._retry.run(lambda: self._store.feedback(feedback_id))
        if found is None:
            raise NotFound(f"No feedback {feedback_id}.")
        return found

    def listed(self, status: str, *, limit: int, cursor: str | None) -> tuple[list[Feedback], str | None]:
        if status not in (OPEN, CLOSED):
            raise ValueError(status)
        return self._retry.run(lambda: self._store.listed(status, limit=limit, after=cursor))

    def of_member(self, member_id: str, *, limit: int, cursor: str | None) -> tuple[list[Feedback], str | None]:
        return self._retry.run(lambda: self._store.of_member(member_id, limit=limit, after=cursor))

    def reply(self, feedback_id: str, reply_id: str, text: str, by: str) -> tuple[bool, Feedback]:
        """Add staff's reply and plan its email to the member, in one write, exactly once by ``reply_id``: ``(True,
        the feedback)``, or ``(False, it)`` for the same reply again; another text under the id → ``409``; a
        closed feedback → ``409 feedback-closed``."""

        def attempt() -> tuple[bool, Feedback]:
            before = self.feedback(feedback_id)
            now = self._clock.now()
            after, new = with_reply(before, reply_id, text, by, now)
            if not new:
                return False, before
            email = Reminder.new(before.member_id, ReminderKind.FEEDBACK_REPLY, f"{feedback_id}:{reply_id}", now,
                                 data={"feedback_id": feedback_id, "reply": text, "excerpt": before.excerpt()})
            self._store.save(before, after, [self._store.plan(email)])
            return True, after

        return self._retry.run(attempt)

    def close(self, feedback_id: str, by: str) -> Feedback:
        """Close a feedback (closing a closed one changes nothing)."""

        def attempt() -> Feedback:
            before = self.feedback(feedback_id)
            after, changed = closed(before, by, self._clock.now())
            if changed:
                self._store.save(before, after)
            return after

        return self._retry.run(attempt)

    def alert_overdue(self, limit: int = ALERT_BATCH) -> list[Feedback]:
        """Alert the staff address about each complaint left without a reply past its deadline, once: the write
        that marks it alerted is conditioned on the version read, so of two runs at once one alerts it and the
        other finds it alerted (or answered) and moves on. What it alerted."""
        now, done = self._clock.now(), []
        for waiting in self._retry.run(lambda: self._store.awaiting_before(now - ALERT_AFTER, limit)):
            found = self._alert_once(waiting.feedback_id, now)
            if found is not None:
                done.append(found)
        return done

    def _alert_once(self, feedback_id: str, now: datetime) -> Feedback | None:
        try:
            return self._retry.run(lambda: self._alert(feedback_id, now))
        except NotFound:
            return None

    def _alert(self, feedback_id: str, now: datetime) -> Feedback | None:
        before = self.feedback(feedback_id)
        due = before.alert_due_at()
        if due is None or due > now:
            return None  # answered, closed or alerted meanwhile (the index lags the item)
        after = alerted(before, now)
        data: dict[str, Any] = {"feedback_id": feedback_id, "excerpt": before.excerpt(),
                                "created_at": before.created_at, "rating": before.rating,
                                "order_id": before.order_id}
        email = Reminder.new(before.member_id, ReminderKind.FEEDBACK_ALERT, feedback_id, now, data=data)
        # Conditioned on the version read: a reply or the other run's alert in between is a Contention, and the
        # next attempt reads it answered or alerted.
        self._store.save(before, after, [self._store.plan(email)])
        return after

    def next_alert(self) -> datetime | None:
        """When the oldest unanswered complaint becomes overdue; None when none waits."""
        oldest = self._retry.run(self._store.oldest_awaiting)
        return oldest.alert_due_at() if oldest is not None else None


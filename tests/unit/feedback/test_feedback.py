"""Feedback's rules and use cases over an in-memory store (docs/feedback.md): replays and reused ids, replies once
by their id, closing, and the unanswered complaint's alert decided once, however the runs overlap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loyalty.feedback.domain import (
    ALERT_AFTER,
    MAX_REPLIES,
    Feedback,
    FeedbackClosed,
    TooManyReplies,
    closed,
    new_feedback,
    same_submission,
    with_reply,
)
from loyalty.feedback.usecases import FeedbackService
from loyalty.shared.clock import FixedClock
from loyalty.shared.errors import IdempotencyMismatch, NotFound, ValidationProblem
from loyalty.shared.once import Contention, RetryPolicy

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


class MemoryStore:
    """``FeedbackStore`` in memory; ``planned`` keeps the emails the writes planned, ``before_save`` runs just before
    a save checks its version (a rival write landing in between)."""

    def __init__(self) -> None:
        self.items: dict[str, Feedback] = {}
        self.planned: list[Any] = []
        self.orders = {"O-1": "mei", "O-2": "bob"}
        self.before_save: list[Any] = []

    def feedback(self, feedback_id: str) -> Feedback | None:
        return self.items.get(feedback_id)

    def create(self, feedback: Feedback) -> bool:
        if feedback.feedback_id in self.items:
            return False
        self.items[feedback.feedback_id] = feedback
        return True

    def save(self, before: Feedback, after: Feedback, also: Sequence[dict[str, Any]] = ()) -> None:
        while self.before_save:
            self.before_save.pop(0)()
        if self.items[before.feedback_id].version != before.version:
            raise Contention(before.feedback_id)
        self.items[after.feedback_id] = after
        self.planned.extend(also)

    def listed(self, status: str, *, limit: int, after: str | None) -> tuple[list[Feedback], str | None]:
        return [f for f in self.items.values() if f.status == status][:limit], None

    def of_member(self, member_id: str, *, limit: int, after: str | None) -> tuple[list[Feedback], str | None]:
        return [f for f in self.items.values() if f.member_id == member_id][:limit], None

    def awaiting_before(self, instant: datetime, limit: int) -> list[Feedback]:
        return sorted((f for f in self.items.values() if f.awaiting_reply and f.created_at < instant.strftime(
            "%Y-%m-%dT%H:%M:%SZ")), key=lambda f: f.created_at)[:limit]

    def oldest_awaiting(self) -> Feedback | None:
        return min((f for f in self.items.values() if f.awaiting_reply), key=lambda f: f.created_at, default=None)

    def order_owner(self, order_id: str) -> str | None:
        return self.orders.get(order_id)

    def plan(self, reminder: Any) -> dict[str, Any]:
        return {"email": reminder}


def service(store: MemoryStore, clock: FixedClock) -> FeedbackService:
    return FeedbackService(store, clock, member_exists=lambda m: m in ("mei", "bob"),
                           retry=RetryPolicy(sleep=lambda _: None))


def emails(store: MemoryStore) -> list[tuple[str, str, str]]:
    return [(e["email"].kind.value, e["email"].member_id, e["email"].occasion) for e in store.planned]


def test_a_submission_again_is_a_replay_and_another_body_under_its_id_is_refused() -> None:
    first = new_feedback("FB-1", "mei", "complaint", "Streaks.", "O-1", 2, NOW)
    assert same_submission(first, new_feedback("FB-1", "mei", "complaint", "Streaks.", "O-1", 2, NOW + ALERT_AFTER)) \
        is first
    for other in (new_feedback("FB-1", "mei", "complaint", "Streaks!", "O-1", 2, NOW),
                  new_feedback("FB-1", "mei", "complaint", "Streaks.", None, 2, NOW),
                  new_feedback("FB-1", "mei", "complaint", "Streaks.", "O-1", 3, NOW),
                  new_feedback("FB-1", "mei", "praise", "Streaks.", "O-1", 2, NOW),
                  new_feedback("FB-1", "bob", "complaint", "Streaks.", "O-1", 2, NOW)):
        with pytest.raises(IdempotencyMismatch):
            same_submission(first, other)


def test_a_reply_is_once_by_its_id_and_a_closed_or_full_feedback_takes_no_new_one() -> None:
    feedback = new_feedback("FB-1", "mei", "complaint", "Streaks.", None, None, NOW)
    assert feedback.awaiting_reply and feedback.alert_due_at() == NOW + ALERT_AFTER
    answered, new = with_reply(feedback, "R-1", "Sorry.", "pos", NOW)
    assert new and answered.version == 1 and answered.first_reply_at == "2026-11-23T09:30:00Z"
    assert not answered.awaiting_reply and answered.alert_due_at() is None
    assert with_reply(answered, "R-1", "Sorry.", "other-staff", NOW + ALERT_AFTER) == (answered, False)
    with pytest.raises(IdempotencyMismatch):
        with_reply(answered, "R-1", "Sorry!", "pos", NOW)
    done, changed = closed(answered, "pos", NOW)
    assert changed and done.status == "closed" and closed(done, "boss", NOW + ALERT_AFTER) == (done, False)
    assert with_reply(done, "R-1", "Sorry.", "pos", NOW) == (done, False)  # a replay still answers
    with pytest.raises(FeedbackClosed):
        with_reply(done, "R-2", "More.", "pos", NOW)
    full = replace(feedback, replies=tuple(with_reply(feedback, f"R-{n}", "x", "pos", NOW)[0].replies[0]
                                           for n in range(MAX_REPLIES)))
    with pytest.raises(TooManyReplies):
        with_reply(full, "R-X", "x", "pos", NOW)
    assert not new_feedback("FB-2", "mei", "praise", "Nice.", None, 5, NOW).awaiting_reply


def test_excerpts_are_short() -> None:
    long = new_feedback("FB-1", "mei", "complaint", "x" * 500, None, None, NOW)
    assert len(long.excerpt()) == 200 and long.excerpt().endswith("…")
    assert new_feedback("FB-1", "mei", "complaint", "short", None, None, NOW).excerpt() == "short"


def test_sending_checks_the_member_and_their_order_and_writes_nothing_when_refused() -> None:
    store, clock = MemoryStore(), FixedClock(NOW)
    feedback = service(store, clock)
    with pytest.raises(ValidationProblem):
        feedback.send("FB-1", "mei", "complaint", "x", "O-2", None)  # bob's order
    with pytest.raises(ValidationProblem):
        feedback.send("FB-1", "mei", "complaint", "x", "O-404", None)
    with pytest.raises(NotFound):
        feedback.send("FB-1", "stranger", "complaint", "x", None, None)
    assert store.items == {}
    assert feedback.send("FB-1", "mei", "complaint", "x", "O-1", 1)[0] is True
    assert feedback.send("FB-1", "mei", "complaint", "x", "O-1", 1)[0] is False
    with pytest.raises(IdempotencyMismatch):
        feedback.send("FB-1", "bob", "complaint", "x", None, 1)


def test_a_reply_plans_one_email_to_the_member_even_when_its_twin_lands_first() -> None:
    store, clock = MemoryStore(), FixedClock(NOW)
    feedback = service(store, clock)
    feedback.send("FB-1", "mei", "complaint", "Streaks.", None, None)
    # the twin request (same reply_id) lands between this one's read and its write: this one reads again, a replay
    store.before_save.append(lambda: service(store, clock).reply("FB-1", "R-1", "Sorry.", "pos-2"))
    created, answered = feedback.reply("FB-1", "R-1", "Sorry.", "pos")
    assert created is False and [r.by for r in answered.replies] == ["pos-2"]
    assert emails(store) == [("feedback_reply", "mei", "FB-1:R-1")]
    planned = store.planned[0]["email"]
    assert planned.data == {"feedback_id": "FB-1", "reply": "Sorry.", "excerpt": "Streaks."}


def test_the_alert_is_decided_once_when_two_runs_overlap_and_never_after_a_reply() -> None:
    store, clock = MemoryStore(), FixedClock(NOW)
    feedback = service(store, clock)
    feedback.send("FB-1", "mei", "complaint", "Late.", None, 1)
    feedback.send("FB-2", "mei", "complaint", "Rude.", "O-1", None)
    feedback.send("FB-3", "mei", "suggestion", "Sundays?", None, None)
    clock.advance(3600)
    feedback.send("FB-4", "mei", "complaint", "Answered.", None, None)
    feedback.reply("FB-4", "R-1", "Sorry.", "pos")
    assert feedback.next_alert() == NOW + ALERT_AFTER
    clock.advance(int(ALERT_AFTER.total_seconds()) - 3600 - 1)
    assert feedback.alert_overdue() == []
    clock.advance(2)
    # the other run alerts FB-1 between this run's read and its write: this one finds it alerted and moves on
    store.before_save.append(lambda: service(store, clock)._alert("FB-1", clock.now()))
    alerted = feedback.alert_overdue()
    assert sorted(f.feedback_id for f in alerted) == ["FB-2"]
    assert sorted(o for k, _, o in emails(store) if k == "feedback_alert") == ["FB-1", "FB-2"]
    assert feedback.alert_overdue() == [] and feedback.next_alert() is None
    clock.advance(86_400)
    assert feedback.alert_overdue() == []
    assert len([e for e in emails(store) if e[0] == "feedback_alert"]) == 2
    two = store.planned[-1]["email"]
    assert two.data == {"feedback_id": "FB-2", "excerpt": "Rude.", "created_at": "2026-11-23T09:30:00Z",
                        "rating": None, "order_id": "O-1"}
    assert store.items["FB-1"].alerted_at == "2026-11-24T09:30:01Z"


def test_a_complaint_answered_between_the_query_and_the_alert_is_not_alerted() -> None:
    store, clock = MemoryStore(), FixedClock(NOW)
    feedback = service(store, clock)
    feedback.send("FB-1", "mei", "complaint", "Late.", None, 1)
    clock.advance(int((ALERT_AFTER + timedelta(minutes=1)).total_seconds()))
    store.before_save.append(lambda: service(store, clock).reply("FB-1", "R-1", "Sorry.", "pos"))
    assert feedback.alert_overdue() == []
    assert [k for k, _, _ in emails(store)] == ["feedback_reply"]

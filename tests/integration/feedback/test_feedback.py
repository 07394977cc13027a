"""Feedback (issue 15, docs/feedback.md) over HTTP: a member complains about an order, staff answer and the member is
emailed the answer in their language; a complaint left 24 hours alerts the shop's staff address once and only once;
replays change nothing; bad bodies are refused and write nothing."""

from __future__ import annotations

from typing import Any

import pytest

from loyalty.shared.clock import FixedClock
from tests.support import Api, CallAs, dump_tables

STAFF: CallAs = {"as_": "pos", "groups": ("staff",)}
HOUR, DAY = 3600, 86400
STAFF_ADDRESS = "service@shop.example"


def settings(api: Api, **changes: Any) -> None:
    current = api.admin("GET", "/v1/outreach/settings").body
    reply = api.admin("PUT", "/v1/outreach/settings", {**current, **changes})
    assert reply.status == 200, reply.body


def send(api: Api, member: str, feedback_id: str, kind: str = "complaint", text: str = "The wax streaked.",
         **extra: Any) -> Any:
    return api.call("POST", "/v1/members/me/feedback", {"feedback_id": feedback_id, "kind": kind, "text": text,
                                                        **extra}, as_=member)


def reply(api: Api, feedback_id: str, reply_id: str, text: str) -> Any:
    return api.call("POST", f"/v1/feedback/{feedback_id}/replies", {"reply_id": reply_id, "text": text}, **STAFF)


def inbox(api: Api, status: str = "open") -> list[dict[str, Any]]:
    found = api.call("GET", f"/v1/feedback?status={status}", **STAFF)
    assert found.status == 200, found.body
    return list(found.body["items"])


def refused(call: Any, status: int, slug: str) -> None:
    before = dump_tables()
    answer = call()
    assert (answer.status, answer.slug) == (status, slug), answer.body
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert dump_tables() == before


def test_a_complaint_answered_emails_the_member_in_their_language_once(api: Api, clock: FixedClock) -> None:
    api.sign_up("mei")  # no locale: zh-CN
    api.sign_up("tom", locale="en")
    assert api.purchase("O-1", "mei", 12900).status == 201
    sent = send(api, "mei", "FB-1", order_id="O-1", rating=2, text="车蜡没打匀。\n引擎盖上有痕迹。")
    assert sent.status == 201, sent.body
    assert {k: sent.body[k] for k in ("feedback_id", "kind", "order_id", "rating", "status", "replies")} == {
        "feedback_id": "FB-1", "kind": "complaint", "order_id": "O-1", "rating": 2, "status": "open", "replies": []}
    assert "member_id" not in sent.body  # the member's own view
    again = send(api, "mei", "FB-1", order_id="O-1", rating=2, text="车蜡没打匀。\n引擎盖上有痕迹。")
    assert (again.status, again.body) == (200, sent.body)
    assert [f["feedback_id"] for f in inbox(api)] == ["FB-1"]

    answered = reply(api, "FB-1", "R-1", "很抱歉,本周任何一天来店,我们免费重新打蜡。")
    assert answered.status == 201, answered.body
    assert answered.body["replies"][0]["replied_by"] == "pos" and answered.body["first_reply_at"]
    assert reply(api, "FB-1", "R-1", "很抱歉,本周任何一天来店,我们免费重新打蜡。").status == 200  # replay
    api.move_clock(10 * 60)  # the next slots of the due job: the email goes out
    mails = api.outbox("mei@example.com")
    answers = [m for m in mails if m["headers"].get("X-Loyalty-Kind") == "feedback_reply"]
    assert len(answers) == 1, mails
    assert "已回复您的意见" in answers[0]["subject"] and "免费重新打蜡" in answers[0]["text"]
    assert "车蜡没打匀" in answers[0]["text"]

    send(api, "tom", "FB-2", kind="suggestion", text="Open on Sundays?")
    reply(api, "FB-2", "R-2", "We will, from January.")
    api.move_clock(10 * 60)
    [english] = [m for m in api.outbox("tom@example.com") if m["headers"].get("X-Loyalty-Kind") == "feedback_reply"]
    assert english["subject"].endswith("has answered your feedback") and "from January" in english["text"]

    mine = api.call("GET", "/v1/members/me/feedback", as_="mei").body["items"]
    assert [(f["feedback_id"], [r["text"] for r in f["replies"]]) for f in mine] == [
        ("FB-1", ["很抱歉,本周任何一天来店,我们免费重新打蜡。"])]
    assert "replied_by" not in mine[0]["replies"][0]
    assert api.call("GET", "/v1/members/me/feedback", as_="tom").body["items"][0]["feedback_id"] == "FB-2"  # own
    assert len(api.call("GET", "/v1/members/me/feedback", as_="tom").body["items"]) == 1

    closed = api.call("PATCH", "/v1/feedback/FB-1", {"status": "closed"}, **STAFF)
    assert (closed.status, closed.body["status"], closed.body["closed_by"]) == (200, "closed", "pos")
    assert api.call("PATCH", "/v1/feedback/FB-1", {"status": "closed"}, **STAFF).body == closed.body
    assert [f["feedback_id"] for f in inbox(api)] == ["FB-2"]
    assert [f["feedback_id"] for f in inbox(api, "closed")] == ["FB-1"]
    assert api.call("GET", "/v1/members/me/feedback", as_="mei").body["items"][0]["status"] == "closed"
    refused(lambda: reply(api, "FB-1", "R-9", "One more thing"), 409, "feedback-closed")


def test_a_complaint_left_24_hours_alerts_the_staff_address_once(api: Api, clock: FixedClock) -> None:
    settings(api, staff_email=STAFF_ADDRESS, staff_locale="en")
    api.sign_up("mei")
    send(api, "mei", "FB-1", rating=1, text="Nobody picked up the phone.")
    send(api, "mei", "FB-2", kind="praise", text="Lovely staff.")  # praise alerts nobody
    send(api, "mei", "FB-3", text="Answered in time.")
    api.move_clock(23 * HOUR)
    reply(api, "FB-3", "R-1", "Sorry: we called you back.")
    assert api.outbox(STAFF_ADDRESS) == []
    api.move_clock(2 * HOUR)  # past 24 hours: the schedule alerts, the due job sends
    alerts = api.outbox(STAFF_ADDRESS)
    assert len(alerts) == 1, alerts
    assert "FB-1" in alerts[0]["subject"] and "Nobody picked up the phone." in alerts[0]["text"]
    assert "1/5" in alerts[0]["text"]
    [listed] = [f for f in inbox(api) if f["feedback_id"] == "FB-1"]
    assert listed["alerted_at"] is not None
    api.move_clock(3 * DAY)  # every run since finds it alerted
    api.tick()
    assert len(api.outbox(STAFF_ADDRESS)) == 1
    # still unanswered: answering it later is what the alert asked for; nothing is sent again
    assert reply(api, "FB-1", "R-2", "So sorry. We will call you today.").status == 201
    api.move_clock(DAY + HOUR)
    assert len(api.outbox(STAFF_ADDRESS)) == 1


def test_without_a_staff_address_the_alert_is_dropped_with_why(api: Api, clock: FixedClock) -> None:
    api.sign_up("mei")
    send(api, "mei", "FB-1")
    api.move_clock(25 * HOUR)
    assert [m for m in api.outbox() if m["headers"].get("X-Loyalty-Kind") == "feedback_alert"] == []
    logged = api.messages("mei")[("feedback_alert", "FB-1")]
    assert logged["status"] == "dropped" and "staff address" in logged["reason"]


@pytest.mark.parametrize("body", [
    {"feedback_id": "FB-1", "kind": "rant", "text": "x"},
    {"feedback_id": "FB-1", "kind": "complaint", "text": ""},
    {"feedback_id": "FB-1", "kind": "complaint", "text": "x" * 2001},
    {"feedback_id": "FB-1", "kind": "complaint", "text": "x", "rating": 6},
    {"feedback_id": "FB-1", "kind": "complaint", "text": "x", "rating": 0},
    {"feedback_id": "FB-1", "kind": "complaint", "text": "x", "rating": 4.5},
    {"feedback_id": "FB-1", "kind": "complaint", "text": "x", "rating": "5"},
    {"feedback_id": "FB 1", "kind": "complaint", "text": "x"},
    {"kind": "complaint", "text": "x"},
    {"feedback_id": "FB-1", "kind": "complaint", "text": "x", "member_id": "bob"},
    {"feedback_id": "FB-1", "kind": "complaint", "text": "bell\u0007"},
])
def test_bad_bodies_are_refused_and_write_nothing(api: Api, clock: FixedClock, body: dict[str, Any]) -> None:
    api.sign_up("mei")
    refused(lambda: api.call("POST", "/v1/members/me/feedback", body, as_="mei"), 422, "validation-error")


def test_an_order_must_be_the_members_own_and_ids_are_not_reused(api: Api, clock: FixedClock) -> None:
    api.sign_up("mei")
    api.sign_up("bob")
    api.purchase("O-BOB", "bob", 5000)
    refused(lambda: send(api, "mei", "FB-1", order_id="O-BOB"), 422, "validation-error")
    refused(lambda: send(api, "mei", "FB-1", order_id="O-NONE"), 422, "validation-error")
    refused(lambda: send(api, "stranger", "FB-1"), 404, "not-found")
    assert send(api, "mei", "FB-1").status == 201
    refused(lambda: send(api, "mei", "FB-1", text="Something else"), 409, "idempotency-mismatch")
    refused(lambda: send(api, "bob", "FB-1"), 409, "idempotency-mismatch")  # another member, the same id
    assert reply(api, "FB-1", "R-1", "Sorry.").status == 201
    refused(lambda: reply(api, "FB-1", "R-1", "Sorry!"), 409, "idempotency-mismatch")
    refused(lambda: reply(api, "FB-NONE", "R-1", "Sorry."), 404, "not-found")
    refused(lambda: reply(api, "FB-1", "R-2", ""), 422, "validation-error")
    refused(lambda: api.call("PATCH", "/v1/feedback/FB-1", {"status": "open"}, **STAFF), 422, "validation-error")
    refused(lambda: api.call("GET", "/v1/feedback?status=all", **STAFF), 422, "validation-error")
    refused(lambda: api.call("GET", "/v1/feedback?cursor=bm90LWEtY3Vyc29y", **STAFF), 422, "validation-error")
    refused(lambda: api.call("GET", "/v1/members/me/feedback?cursor=e30", as_="mei"), 422, "validation-error")


def test_lists_are_paged(api: Api, clock: FixedClock) -> None:
    api.sign_up("mei")
    for n in range(5):
        send(api, "mei", f"FB-{n}", kind="suggestion", text=f"Idea {n}")
        clock.advance(60)
    seen, cursor = [], None
    while True:
        page = api.call("GET", "/v1/feedback?limit=2" + (f"&cursor={cursor}" if cursor else ""), **STAFF).body
        seen += [f["feedback_id"] for f in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"FB-{n}" for n in range(5)]  # the inbox: oldest first
    mine, cursor = [], None
    while True:
        page = api.call("GET", "/v1/members/me/feedback?limit=3" + (f"&cursor={cursor}" if cursor else ""),
                        as_="mei").body
        mine += [f["feedback_id"] for f in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert mine == [f"FB-{n}" for n in reversed(range(5))]  # their own: newest first

"""Feedback's races on AWS's own engine (docs/feedback.md), from 8 processes at once:

- twenty staff sending the same reply (one ``reply_id``) to one complaint at once: one reply is kept, one email is
  planned (one item in outreach's due index), one request answers ``201`` and every other its replay (``200``);
- four runs of the alerts' schedule at once over thirty overdue complaints, while staff answer some of them: every
  complaint unanswered at its alert is alerted exactly once (one due item, one run claims it), an answered one never.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from loyalty import wiring
from tests.concurrency.conftest import Reply, Service, report

pytestmark = pytest.mark.xdist_group("dynamodb-local")  # one DynamoDB Local per test process


def complain(service: Service, member: str, feedback_id: str) -> None:
    reply = service.call("POST", "/v1/members/me/feedback", {"feedback_id": feedback_id, "kind": "complaint",
                                                             "text": f"Complaint {feedback_id}"}, as_=member)
    assert reply.status == 201, reply.body


def answer(service: Service, feedback_id: str, reply_id: str, staff: str) -> Reply:
    return service.call("POST", f"/v1/feedback/{feedback_id}/replies", {"reply_id": reply_id, "text": "Sorry."},
                        as_=staff, groups=("staff",))


def due_emails(service: Service, kind: str) -> list[str]:
    """The occasions of the emails of this kind waiting in outreach's due index (read from the table)."""
    found: list[str] = []
    for page in service.db.get_paginator("scan").paginate(TableName="OutreachTable"):
        for item in page["Items"]:
            if item["pk"]["S"].startswith("DUE#") and f"#{kind}#" in item["sk"]["S"]:
                found.append(item["sk"]["S"].split(f"#{kind}#", 1)[1])
    return sorted(found)


def test_twenty_staff_sending_one_reply_at_once_keep_one_reply_and_plan_one_email(service: Service) -> None:
    service.sign_up("mei")
    complain(service, "mei", "FB-1")
    racers = 20
    for n in range(racers):
        service.token(f"staff-{n}", "staff")
    mark = service.transactions.mark()
    replies = service.all_at_once([partial(answer, service, "FB-1", "R-1", f"staff-{n}") for n in range(racers)])
    statuses = Counter(r.status for r in replies)
    assert statuses == {201: 1, 200: racers - 1}, statuses
    kept = [r.body["replies"] for r in replies]
    assert all(len(k) == 1 and k[0] == kept[0][0] for k in kept), kept  # every answer shows the one reply
    assert due_emails(service, "feedback_reply") == ["FB-1:R-1"]
    inbox = service.call("GET", "/v1/feedback?status=open", as_="pos", groups=("staff",)).body["items"]
    assert [len(f["replies"]) for f in inbox] == [1]
    report("one reply, 20 staff", **service.transactions.since(mark))


def test_overlapping_alert_runs_alert_each_overdue_complaint_once(service: Service) -> None:
    service.sign_up("mei")
    complaints = [f"FB-{n:02d}" for n in range(30)]
    for feedback_id in complaints:
        complain(service, "mei", feedback_id)
    service.clock.set(service.clock.now() + timedelta(hours=24, minutes=5))
    answered = complaints[::5]  # staff answer these while the runs go
    for n in range(len(answered)):
        service.token(f"staff-{n}", "staff")

    def run() -> Reply:  # one run of the schedule's function, in a thread of this process (its own use case)
        return Reply(200, {"alerted": [f.feedback_id for f in wiring.feedback().alert_overdue()]})

    calls: list[Any] = [run] * 4 + [partial(answer, service, f, "R-1", f"staff-{n}") for n, f in enumerate(answered)]
    mark = service.transactions.mark()
    wiring.configure(clock=service.clock)
    results = service.all_at_once(calls)
    alerted = Counter(f for r in results[:4] for f in r.body["alerted"])
    assert all(count == 1 for count in alerted.values()), alerted  # no complaint claimed by two runs
    assert [r.status for r in results[4:]] == [201] * len(answered)
    # Each complaint was either answered before any run reached it or alerted once (and maybe answered after)
    emails = due_emails(service, "feedback_alert")
    assert emails == sorted(alerted) and len(emails) == len(set(emails))
    assert set(complaints) - set(answered) <= set(emails)
    # later runs alert nothing more
    assert run().body["alerted"] == []
    inbox = {f["feedback_id"]: f for f in service.call("GET", "/v1/feedback?status=open&limit=100", as_="pos",
                                                        groups=("staff",)).body["items"]}
    assert {f for f, shown in inbox.items() if shown["alerted_at"]} == set(emails)
    report("alerts, 4 runs and 6 staff", alerted=len(emails), **service.transactions.since(mark))

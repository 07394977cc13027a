"""Reminders over HTTP against `python -m localdev`: two weeks of the clock, the outbox message by message."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.e2e.conftest import Client

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
DAY = 86400


def _now(http: Client) -> datetime:
    return datetime.fromisoformat(http("GET", "/local/clock").json()["now"].replace("Z", "+00:00"))


def _advance(http: Client, seconds: int) -> None:
    assert http("POST", "/local/clock", body={"advance_seconds": seconds}).status_code == 200


def _tick(http: Client, times: int = 1) -> None:
    for _ in range(times):
        assert http("POST", "/local/tick").status_code == 200


def _new_mail(http: Client, seen: list[dict[str, Any]]) -> list[tuple[str, str]]:
    items = http("GET", "/local/outbox").json()["items"]
    fresh = items[len(seen):]
    seen.extend(fresh)
    return sorted((m["to"], m["subject"]) for m in fresh)


def test_two_weeks_of_follow_ups_for_an_opted_in_buyer(base_url: str) -> None:
    http = Client(base_url)
    staff = http.login("pos-1", "staff")
    # Start the story at 02:00 UTC (10:00 in Shanghai), whenever the test runs: inside sending hours.
    now = _now(http)
    start = (now + timedelta(days=1)).replace(hour=2, minute=0, second=0)
    _advance(http, int((start - now).total_seconds()))

    for name, extra in (("carol", {"marketing_opt_in": False}),
                        ("dan", {"marketing_opt_in": True, "time_zone": "Asia/Shanghai", "locale": "en"})):
        http.login(name)
        body: dict[str, Any] = {"email": f"{name}@example.com", "display_name": name.title(), **extra}
        if name == "dan":
            body["referral_code"] = http("GET", "/v1/members/me", "carol").json()["referral_code"]
        assert http("POST", "/v1/members", name, body).status_code == 201

    seen: list[dict[str, Any]] = []
    _new_mail(http, seen)
    purchase = {"order_id": "E2E-1", "member_id": "dan", "amount_minor": 12900, "currency": "CNY",
                "occurred_at": start.isoformat().replace("+00:00", "Z"),
                "items": [{"sku": "WASH-6", "name": "Car wash ×6", "quantity": 1, "amount_minor": 12900}]}
    assert http("POST", "/v1/purchases", staff, purchase).status_code == 201

    # Right after: the thank-you, once, however often the tick runs.
    _tick(http, 3)
    assert _new_mail(http, seen) == [("dan@example.com", "Thank you for your purchase, Dan")]
    thanks = seen[-1]
    sent_at = datetime.fromisoformat(thanks["sent_at"].replace("Z", "+00:00"))
    assert "Car wash ×6" in thanks["text"] and timedelta(0) <= sent_at - start < timedelta(minutes=1)

    # Day 1: nothing.
    _advance(http, DAY)
    _tick(http, 2)
    assert _new_mail(http, seen) == []

    # Day 2: the greeting (marketing: it carries one-click unsubscribe).
    _advance(http, DAY)
    _tick(http, 2)
    assert _new_mail(http, seen) == [("dan@example.com", "How are you settling in, Dan?")]
    greeting = seen[-1]
    link = greeting["headers"]["List-Unsubscribe"].strip("<>")
    assert greeting["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and link in greeting["text"]

    # Days 3-6: nothing.
    for _ in range(4):
        _advance(http, DAY)
        _tick(http)
    assert _new_mail(http, seen) == []

    # Day 7: the usage check-in with a feedback link; the points are available, for Dan and for Carol
    # (a notice: it needs no marketing consent).
    _advance(http, DAY)
    _tick(http, 2)
    assert _new_mail(http, seen) == [("carol@example.com", "12 积分已到账,可以使用了"),  # Carol reads zh-CN
                                     ("dan@example.com", "129 points are now yours to spend"),
                                     ("dan@example.com", "How is it going with your purchase?")]
    checkin = next(m for m in seen if m["subject"] == "How is it going with your purchase?")
    assert "feedback?order=E2E-1" in checkin["text"]
    assert http("GET", "/v1/members/me", "dan").json()["balances"]["points"]["available"] == 129

    # Dan unsubscribes with one click, without logging in; the send log says why nothing more comes.
    path = link.split(base_url, 1)[1]
    one_click = http("POST", path, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert one_click.status_code == 200
    assert http("GET", "/v1/members/me/preferences", "dan").json()["marketing_opt_in"] is False

    # Days 8-14: nothing more.
    for _ in range(7):
        _advance(http, DAY)
        _tick(http)
    assert _new_mail(http, seen) == []
    log = {(m["kind"], m["occasion"]): m["status"]
           for m in http("GET", "/v1/members/dan/messages", staff).json()["items"]}
    assert log == {("thank_you", "E2E-1"): "sent", ("greeting", "E2E-1"): "sent", ("checkin", "E2E-1"): "sent",
                   ("points_available", "E2E-1"): "sent"}

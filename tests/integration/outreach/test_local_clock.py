"""The local server's clock (POST /local/clock) does, in order, what AWS would have done in the time it skips,
and what a request causes reaches its consumers before the next request (localdev.jobs)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import boto3

from loyalty.shared.clock import parse_rfc3339
from tests.support import Api

HOUR, DAY = 3600, 86400


def member(api: Api, sub: str, **fields: Any) -> dict[str, Any]:
    defaults = {"marketing_opt_in": True, "locale": "en", "time_zone": "Asia/Shanghai"}
    return api.sign_up(sub, None, **{**defaults, **fields})


def mail(api: Api, sub: str) -> list[tuple[str, str]]:
    """(subject, sent_at) of what was sent to a member, oldest first."""
    return [(m["subject"], m["sent_at"]) for m in api.outbox(f"{sub}@example.com")]


def local(sent_at: str, time_zone: str) -> datetime:
    return parse_rfc3339(sent_at).astimezone(ZoneInfo(time_zone))


def test_a_purchase_then_three_days_of_clock_sends_what_aws_would_have_sent_on_the_way(api: Api) -> None:
    # The issue: a purchase, then +3 days, then a tick dropped the thank-you as expired and deferred the rest.
    member(api, "dan")
    assert api.purchase("O-1", "dan", 12900).status == 201  # at 09:30 UTC (17:30 in Shanghai), on the 5-minute grid
    assert api.move_clock(3 * DAY) == "2026-11-26T09:30:00Z"
    sent = mail(api, "dan")
    # The thank-you at the first dispatch after the purchase; the greeting two days later, at its slot (17:30 in
    # Shanghai: inside the sending window, so not deferred).
    assert sent == [("Thank you for your purchase, Dan", "2026-11-23T09:35:00Z"),
                    ("How are you settling in, Dan?", "2026-11-25T09:30:00Z")]
    assert 9 <= local(sent[1][1], "Asia/Shanghai").hour < 20
    log = api.messages("dan")
    assert log[("thank_you", "O-1")]["status"] == "sent" and log[("greeting", "O-1")]["status"] == "sent"
    assert ("checkin", "O-1") not in log  # due on day 7
    assert api.tick() and mail(api, "dan") == sent  # a tick afterwards finds nothing left to do


def test_marketing_due_in_quiet_hours_goes_out_when_the_window_opens_on_the_way(api: Api) -> None:
    member(api, "ny", time_zone="America/New_York")  # 09:30 UTC is 04:30 in New York
    api.purchase("O-1", "ny", 5000)
    api.move_clock(3 * DAY)
    assert mail(api, "ny") == [("Thank you for your purchase, Ny", "2026-11-23T09:35:00Z"),
                               ("How are you settling in, Ny?", "2026-11-25T14:00:00Z")]  # 09:00 in New York
    assert "deferred" in [h["status"] for h in api.messages("ny")[("greeting", "O-1")]["history"]]


def test_birthdays_go_out_on_the_members_local_birthday_across_months_of_clock(api: Api) -> None:
    member(api, "li", birthday="1990-02-14")  # Shanghai, UTC+8
    member(api, "ny", birthday="1990-02-14", time_zone="America/New_York")  # UTC-5 in February
    member(api, "mo", birthday="1985-05-05")
    member(api, "pat", birthday="1985-05-05")
    # Changed today: mo's new birthday has settled by 10 January; pat's 1 December comes before it has settled.
    for sub, birthday in (("mo", "1985-01-10"), ("pat", "1985-12-01")):
        assert api.call("PATCH", "/v1/members/me/preferences", {"birthday": birthday}, as_=sub).status == 200

    api.move_clock(100 * DAY)  # to 3 March 2027

    # Each planned when the day begins where the member lives (local midnight: quiet hours), sent at 09:00 there.
    assert mail(api, "li") == [("Happy birthday, Li!", "2027-02-14T01:00:00Z")]
    assert mail(api, "ny") == [("Happy birthday, Ny!", "2027-02-14T14:00:00Z")]
    assert mail(api, "mo") == [("Happy birthday, Mo!", "2027-01-10T01:00:00Z")]
    assert mail(api, "pat") == []
    for sub, zone in (("li", "Asia/Shanghai"), ("ny", "America/New_York")):
        sent_at = local(mail(api, sub)[0][1], zone)
        assert (sent_at.month, sent_at.day, sent_at.hour) == (2, 14, 9)
        assert api.messages(sub)[("birthday", "2027")]["status"] == "sent"


def test_a_birthday_comes_round_every_year_but_not_on_the_day_of_sign_up(api: Api) -> None:
    # Was: a birthday given at sign-up counted at once, so signing up somebody's address with their birthday
    # today had the shop greet them within the hour. It settles like a changed birthday (30 days).
    member(api, "li", birthday="1990-11-23")  # today in Shanghai (17:30 there)
    api.move_clock(HOUR)  # the calendar's next slot
    assert mail(api, "li") == []
    api.move_clock(2 * 366 * DAY)  # two birthdays later
    assert mail(api, "li") == [("Happy birthday, Li!", "2027-11-23T01:00:00Z"),
                               ("Happy birthday, Li!", "2028-11-23T01:00:00Z")]


def test_a_holiday_greeting_goes_out_on_the_way(api: Api) -> None:
    member(api, "li", locale="zh-CN")
    calendar = {"holidays": [{"holiday_id": "spring-2027", "date": "2027-02-06",
                              "names": {"en": "Spring Festival", "zh-CN": "春节"}}]}
    assert api.admin("PUT", "/v1/outreach/holidays", calendar).status == 200
    api.move_clock(90 * DAY)
    assert mail(api, "li") == [("Loyalty祝您春节快乐", "2027-02-06T01:00:00Z")]  # 09:00 on the day in Shanghai


def test_a_year_of_clock_on_a_quiet_system_takes_seconds_and_misses_nothing(api: Api) -> None:
    member(api, "dan", birthday="1990-07-01")
    member(api, "eve", marketing_opt_in=False)
    api.admin("PUT", "/v1/outreach/settings", {"winback_after_days": 60})
    api.purchase("O-1", "dan", 12900)
    started = time.perf_counter()
    assert api.move_clock(365 * DAY) == "2027-11-23T09:30:00Z"
    print(f"a year of clock: {time.perf_counter() - started:.2f} s")
    assert [subject for subject, _ in mail(api, "dan")] == [
        "Thank you for your purchase, Dan", "How are you settling in, Dan?", "129 points are now yours to spend",
        "How is it going with your purchase?", "We miss you, Dan", "Happy birthday, Dan!"]
    assert mail(api, "eve") == []
    assert {k: v["status"] for k, v in api.messages("dan").items()} == {
        ("thank_you", "O-1"): "sent", ("greeting", "O-1"): "sent", ("points_available", "O-1"): "sent",
        ("checkin", "O-1"): "sent", ("winback", "O-1"): "sent", ("birthday", "2027"): "sent"}


def test_the_clock_refuses_to_go_back_or_too_far(api: Api) -> None:
    for body in (b'{"advance_seconds": -1}', b'{"advance_seconds": 1.5}', b'{"advance_seconds": "60"}', b"[]",
                 b'{"advance_seconds": 700000000}'):
        status, headers, _ = api.gateway.local("POST", "/local/clock", body) or (0, {}, b"")
        assert (status, headers["content-type"]) == (422, "application/problem+json"), body


def test_what_a_request_caused_is_delivered_before_the_next_request(api: Api) -> None:
    member(api, "dan")
    api.purchase("O-1", "dan", 12900)
    # The purchase's follow-ups were planned from the Operations stream, no tick needed …
    due = boto3.client("dynamodb").scan(TableName="OutreachTable")["Items"]
    assert any(i["sk"]["S"].endswith("#dan#thank_you#O-1") for i in due if i["pk"]["S"].startswith("DUE#"))
    # … and a campaign went through the fan-out and send queues to SES before the answer came back.
    started = api.admin("POST", "/v1/outreach/campaigns", {"campaign_id": "C-1", "headline": {"en": "Expert day"},
                                                           "message": {"en": "Saturday."}})
    assert started.status == 202
    assert mail(api, "dan") == [("Expert day", "2026-11-23T09:30:00Z")]
    assert api.admin("GET", "/v1/outreach/campaigns/C-1").body["counts"]["sent"] == 1

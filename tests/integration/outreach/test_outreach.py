"""Reminders end to end on moto: planner (stream) → dispatcher (schedule) → sender (queue) → SES."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from loyalty import wiring
from loyalty.outreach.dynamodb import DynamoOutreachStore
from loyalty.outreach.policy import Reminder, ReminderKind
from loyalty.shared.clock import FixedClock
from tests.support import Api

HOUR, DAY = 3600, 86400
ITEMS = [{"sku": "WASH-6", "name": "Car wash ×6", "category": "car-care", "quantity": 1, "amount_minor": 12900}]


def subjects(api: Api, to: str) -> list[str]:
    return [m["subject"] for m in api.outbox(f"{to}@example.com")]


def member(api: Api, sub: str, **fields: Any) -> dict[str, Any]:
    defaults = {"marketing_opt_in": True, "locale": "en", "time_zone": "Asia/Shanghai"}
    return api.sign_up(sub, None, **{**defaults, **fields})


def test_the_post_purchase_cadence_arrives_once_each(api: Api, clock: FixedClock) -> None:
    member(api, "dan")
    api.purchase("O-1", "dan", 12900, items=ITEMS)  # 09:30 UTC = 17:30 in Shanghai
    for _ in range(3):
        api.tick()
    assert subjects(api, "dan") == ["Thank you for your purchase, Dan"]
    thanks = api.outbox("dan@example.com")[0]
    assert "Car wash ×6" in thanks["text"] and "129.00 CNY" in thanks["text"]
    assert "List-Unsubscribe" not in thanks["headers"]  # transactional: no marketing unsubscribe
    clock.advance(2 * DAY)
    api.tick()
    api.tick()
    assert subjects(api, "dan")[1:] == ["How are you settling in, Dan?"]
    clock.advance(5 * DAY)
    api.tick()
    later = subjects(api, "dan")[2:]
    assert sorted(later) == ["129 points are now yours to spend", "How is it going with your purchase?"]
    checkin = next(m for m in api.outbox("dan@example.com") if m["subject"].startswith("How is it going"))
    assert "feedback?order=O-1" in checkin["text"]
    assert checkin["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    clock.advance(7 * DAY)
    api.tick()
    assert len(api.outbox("dan@example.com")) == 4
    log = api.messages("dan")
    assert {k: v["status"] for k, v in log.items() if k[1] == "O-1"} == {
        ("thank_you", "O-1"): "sent", ("greeting", "O-1"): "sent", ("checkin", "O-1"): "sent",
        ("points_available", "O-1"): "sent"}


# What mail clients turn into links in text: a scheme, www., an address, a host name with a dot.
LINKABLE = re.compile(r"(?i)[a-z][a-z0-9+.-]*://|www\.|[\w.+-]+@[a-z0-9-]+\.[a-z]|\b[a-z0-9-]+\.(example|com)\b")


@pytest.mark.parametrize("name", ["www.evil.example", "http://x", "Mallory evil.com", "me@evil.example"])
def test_a_display_name_is_never_made_a_link_in_an_email(api: Api, name: str) -> None:
    # Was: a display name "www.evil.example" arrived in the thank-you (subject, text and HTML) as written, and
    # mail clients showed the member's link in the shop's email.
    member(api, "dan", display_name=name)
    api.purchase("O-1", "dan", 12900)
    api.tick()
    [thanks] = api.outbox("dan@example.com")
    shop_links = re.compile(r"https://[^\s\"<>]*|[\w.+-]+@example\.com")  # the shop's own links and addresses
    for part in ("subject", "text", "html"):
        shown = shop_links.sub("", thanks[part])
        assert not LINKABLE.search(shown), (part, LINKABLE.search(shown), thanks[part])
        assert name in thanks[part].replace("\u200c", "")  # it still reads the same
    assert api.call("GET", "/v1/members/me", as_="dan").body["display_name"] == name  # stored as given


def test_a_fully_refunded_order_cancels_its_follow_ups(api: Api, clock: FixedClock) -> None:
    member(api, "dan")
    api.purchase("O-1", "dan", 12900)
    api.tick()
    assert api.refund("O-1", "R-1", 12900).status == 201
    clock.advance(8 * DAY)
    api.tick()
    assert subjects(api, "dan") == ["Thank you for your purchase, Dan"]
    log = api.messages("dan")
    for kind in ("greeting", "checkin", "points_available"):
        assert log[(kind, "O-1")]["status"] == "dropped" and "refund" in log[(kind, "O-1")]["reason"]


def test_marketing_needs_consent_and_the_receipt_does_not(api: Api, clock: FixedClock) -> None:
    member(api, "ann", marketing_opt_in=False)
    api.purchase("O-1", "ann", 5000)
    api.tick()
    clock.advance(8 * DAY)
    api.tick()
    assert subjects(api, "ann") == ["Thank you for your purchase, Ann", "50 points are now yours to spend"]
    log = api.messages("ann")
    assert (log[("greeting", "O-1")]["status"], log[("greeting", "O-1")]["reason"]) == (
        "suppressed", "no marketing consent")


def test_quiet_hours_defer_marketing_to_the_morning_in_the_members_time_zone(api: Api, clock: FixedClock) -> None:
    member(api, "ny", time_zone="America/New_York")  # 09:30 UTC is 04:30 in New York
    api.purchase("O-1", "ny", 5000)
    clock.advance(2 * DAY)
    api.tick()
    assert subjects(api, "ny") == ["Thank you for your purchase, Ny"]  # the receipt is not held back
    greeting = api.messages("ny")[("greeting", "O-1")]
    assert greeting["status"] == "deferred" and "quiet hours in America/New_York" in greeting["reason"]
    assert greeting["until"] == "2026-11-25T14:00:00Z"  # 09:00 in New York
    clock.advance(4 * HOUR + 29 * 60)
    api.tick()
    assert len(subjects(api, "ny")) == 1
    clock.advance(60)
    api.tick()
    assert subjects(api, "ny")[1] == "How are you settling in, Ny?"
    assert api.outbox("ny@example.com")[1]["sent_at"] == "2026-11-25T14:00:00Z"


def test_the_frequency_cap_defers_and_a_message_it_holds_past_expiry_is_dropped(api: Api, clock: FixedClock) -> None:
    member(api, "dan")
    api.admin("PUT", "/v1/outreach/settings", {"greeting_after_days": 1, "checkin_after_days": 2})
    api.purchase("O-1", "dan", 5000)
    clock.advance(DAY)
    api.tick()  # greeting: the first marketing email
    clock.advance(DAY)
    api.tick()  # check-in, 24 h after the greeting: the 48 h gap holds it back
    checkin = api.messages("dan")[("checkin", "O-1")]
    assert (checkin["status"], checkin["until"]) == ("deferred", "2026-11-26T09:30:00Z")
    assert "frequency cap" in checkin["reason"]
    clock.advance(DAY)
    api.tick()
    assert subjects(api, "dan")[-1] == "How is it going with your purchase?"

    # A monthly limit of 2, both used (greeting, check-in): the campaign could only go out when the first
    # leaves the 30-day window, past the campaign's expiry, so it is dropped, not sent late.
    api.admin("PUT", "/v1/outreach/settings", {"min_gap_hours": 0, "max_per_30_days": 2})
    api.admin("POST", "/v1/outreach/campaigns", {"campaign_id": "C-1", "headline": {"en": "Expert day"},
                                                 "message": {"en": "Our expert visits on Saturday."}})
    api.tick()
    campaign = api.messages("dan")[("campaign", "C-1")]
    assert campaign["status"] == "dropped" and "expire" in campaign["reason"]
    assert api.admin("GET", "/v1/outreach/campaigns/C-1").body["counts"] == {
        "targeted": 1, "sent": 0, "suppressed": 0, "dropped": 1, "failed": 0}


def test_unsubscribe_is_one_click_needs_no_login_and_cannot_be_forged(api: Api, clock: FixedClock) -> None:
    member(api, "dan")
    member(api, "eve")
    api.purchase("O-1", "dan", 5000)
    clock.advance(2 * DAY)
    api.tick()
    greeting = api.outbox("dan@example.com")[-1]
    link = greeting["headers"]["List-Unsubscribe"].strip("<>")
    assert link in greeting["text"] and link in greeting["html"]
    token = link.rsplit("/u/", 1)[1]
    eve_head = "A" * 22 + token.split(".")[0][22:]  # another id, dan's generation and mac
    forged = f"{eve_head}.{token.split('.')[1]}"
    assert api.call("POST", f"/u/{forged}", raw=b"List-Unsubscribe=One-Click",
                    headers={"Content-Type": "application/x-www-form-urlencoded"}).status == 404
    page = api.call("GET", f"/u/{token}")
    assert page.status == 200 and "<form" in page.body
    assert api.call("GET", "/v1/members/me/preferences", as_="dan").body["marketing_opt_in"] is True
    done = api.call("POST", f"/u/{token}", raw=b"List-Unsubscribe=One-Click",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert done.status == 200
    assert api.call("GET", "/v1/members/me/preferences", as_="dan").body["marketing_opt_in"] is False
    assert api.call("GET", "/v1/members/me/preferences", as_="eve").body["marketing_opt_in"] is True
    clock.advance(5 * DAY)
    api.tick()
    assert "How is it going with your purchase?" not in subjects(api, "dan")
    assert api.messages("dan")[("checkin", "O-1")]["status"] == "suppressed"


def test_bounces_and_complaints_suppress_the_address(api: Api, clock: FixedClock) -> None:
    member(api, "dan")
    member(api, "eve")
    from functions.sesevents.app import handler as ses_events

    for detail in ({"eventType": "Bounce", "bounce": {"bounceType": "Permanent", "bounceSubType": "General",
                                                      "bouncedRecipients": [{"emailAddress": "DAN@example.com"}]}},
                   {"eventType": "Bounce", "bounce": {"bounceType": "Transient",
                                                      "bouncedRecipients": [{"emailAddress": "eve@example.com"}]}}):
        api.gateway.run(ses_events, {"source": "aws.ses", "detail-type": "Email Bounced", "detail": detail},
                        "SesEventsFunction")
    api.purchase("O-1", "dan", 5000)
    api.purchase("O-2", "eve", 5000)
    api.tick()
    assert subjects(api, "dan") == [] and len(subjects(api, "eve")) == 1  # a transient bounce suppresses nothing
    assert api.messages("dan")[("thank_you", "O-1")]["reason"] == "address suppressed (bounce: General)"
    api.gateway.run(ses_events, {"source": "aws.ses", "detail-type": "Email Complaint Received", "detail": {
        "eventType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": "eve@example.com"}]}}},
        "SesEventsFunction")
    clock.advance(2 * DAY)
    api.tick()
    assert len(subjects(api, "eve")) == 1
    assert api.messages("eve")[("greeting", "O-2")]["reason"] == "address suppressed (complaint)"


def test_the_ses_rule_takes_bounces_and_complaints_and_nothing_else() -> None:
    from localdev import template
    from localdev.jobs import matches

    rule = template.load()["Resources"]["SesEventsFunction"]["Properties"]["Events"]["BouncesAndComplaints"]
    pattern = rule["Properties"]["Pattern"]
    event = {"version": "0", "source": "aws.ses", "account": "123456789012", "region": "us-east-1",
             "detail": {"eventType": "Bounce"}}
    assert matches(pattern, {**event, "detail-type": "Email Bounced"})
    assert matches(pattern, {**event, "detail-type": "Email Complaint Received"})
    assert not matches(pattern, {**event, "detail-type": "Email Delivered"})
    assert not matches(pattern, {**event, "source": "aws.s3", "detail-type": "Email Bounced"})


def test_replacement_reminders_follow_product_or_category_intervals(api: Api, clock: FixedClock) -> None:
    member(api, "dan")
    rules = {"rules": [{"category": "filters", "interval_days": 90},
                       {"sku": "CAR-1", "interval_days": 1460, "name": "car"}]}
    assert api.admin("PUT", "/v1/outreach/replacements", rules).status == 200
    api.admin("PUT", "/v1/outreach/settings", {"winback_after_days": 3650})
    items = [{"sku": "F-22", "name": "Water filter", "category": "filters"}, {"sku": "CAR-1", "category": "cars"},
             {"sku": "MUG", "category": "kitchen"}]
    api.purchase("O-1", "dan", 500000, items=items)
    clock.advance(89 * DAY)
    api.tick()
    assert not [s for s in subjects(api, "dan") if s.startswith("Time to replace")]
    clock.advance(DAY)
    api.tick()
    replacements = [s for s in subjects(api, "dan") if s.startswith("Time to replace")]
    assert replacements == ["Time to replace your Water filter?"]
    clock.advance(1460 * DAY - 90 * DAY)
    api.tick()
    assert subjects(api, "dan")[-1] == "Time to replace your car?"
    assert ("replacement", "O-1:MUG") not in api.messages("dan")


def test_win_back_after_days_without_a_purchase_and_not_after_a_new_one(api: Api, clock: FixedClock) -> None:
    member(api, "dan")
    member(api, "eve")
    api.admin("PUT", "/v1/outreach/settings", {"winback_after_days": 30, "max_per_30_days": 0})
    api.purchase("O-1", "dan", 5000)
    api.purchase("O-2", "eve", 5000)
    clock.advance(20 * DAY)
    api.purchase("O-3", "eve", 5000)
    clock.advance(10 * DAY)
    api.tick()
    assert subjects(api, "dan")[-1] == "We miss you, Dan"
    assert "We miss you, Eve" not in subjects(api, "eve")
    assert api.messages("eve")[("winback", "O-2")]["reason"] == "cancelled: a later purchase was made"


def test_birthdays_in_the_members_time_zone_and_not_right_after_a_change(api: Api, clock: FixedClock) -> None:
    member(api, "li", birthday="1990-12-24")
    member(api, "ny", birthday="1990-12-24", time_zone="America/New_York")
    member(api, "mo", birthday="1985-01-01")
    clock.advance(30 * DAY)  # 23 December: the birthdays given at sign-up have settled
    api.call("PATCH", "/v1/members/me/preferences", {"birthday": "1985-12-24"}, as_="mo")  # changed just now
    api.tick()  # tomorrow is li's birthday; in Shanghai it starts at 16:00 UTC today
    assert subjects(api, "li") == []
    clock.advance(15 * HOUR)  # 00:30 on the 24th in Shanghai: quiet hours until 09:00
    api.tick()
    assert api.messages("li")[("birthday", "2026")]["status"] == "deferred"
    clock.advance(9 * HOUR)  # 09:30 in Shanghai
    api.tick()
    assert subjects(api, "li") == ["Happy birthday, Li!"]
    assert subjects(api, "ny") == []  # still the 23rd in New York
    clock.advance(6 * HOUR)  # 09:30 UTC on the 24th = 04:30 in New York
    api.tick()
    clock.advance(5 * HOUR)
    api.tick()
    assert subjects(api, "ny") == ["Happy birthday, Ny!"]
    assert subjects(api, "mo") == []
    clock.advance(DAY)
    api.tick()
    assert len(subjects(api, "li")) == 1  # once a year


def test_a_birthday_given_at_sign_up_is_not_greeted_at_once(api: Api, clock: FixedClock) -> None:
    # Was: a sign-up with somebody's birthday today (and their address) had the shop greet them within the hour.
    member(api, "li", birthday="1990-11-24")  # tomorrow in Shanghai
    for _ in range(3):
        clock.advance(12 * HOUR)
        api.tick()
    assert subjects(api, "li") == []
    assert ("birthday", "2026") not in api.messages("li")


def test_holiday_greetings_from_the_admins_calendar(api: Api, clock: FixedClock) -> None:
    member(api, "li", locale="zh-CN")
    member(api, "ann", marketing_opt_in=False)
    calendar = {"holidays": [{"holiday_id": "spring-2027", "date": "2026-11-25",
                              "names": {"en": "Spring Festival", "zh-CN": "春节"}}]}
    assert api.admin("PUT", "/v1/outreach/holidays", calendar).body == calendar
    api.tick()
    assert subjects(api, "li") == []
    clock.advance(DAY)  # the 24th, 17:30 UTC: the 25th begins in the east
    api.tick()
    clock.advance(16 * HOUR)  # 09:30 on the 25th in Shanghai
    api.tick()
    api.tick()
    assert subjects(api, "li") == ["Loyalty祝您春节快乐"]
    assert subjects(api, "ann") == []


def test_campaigns_reach_opted_in_members_matching_a_filter_and_count_outcomes(api: Api, clock: FixedClock) -> None:
    for sub, locale in (("li", "zh-CN"), ("ann", "en"), ("bob", "en")):
        member(api, sub, locale=locale)
    member(api, "no", marketing_opt_in=False)
    api.purchase("O-1", "li", 5000, items=[{"sku": "OIL", "category": "car-care"}])
    api.purchase("O-2", "ann", 5000, items=[{"sku": "TEA", "category": "kitchen"}])
    api.tick()
    campaign = {"campaign_id": "C-oil", "headline": {"en": "Oil change week", "zh-CN": "换油周"},
                "message": {"en": "Half price oil changes.", "zh-CN": "换油半价。"},
                "filter": {"purchased_categories": ["car-care", "kitchen"], "locales": ["zh-CN", "en"]}}
    started = api.admin("POST", "/v1/outreach/campaigns", campaign)
    assert started.status == 202 and started.body["counts"]["targeted"] == 0
    assert api.admin("POST", "/v1/outreach/campaigns", campaign).status == 200
    other = {**campaign, "message": {"en": "Something else"}}
    assert api.admin("POST", "/v1/outreach/campaigns", other).slug == "idempotency-mismatch"
    api.tick()
    assert subjects(api, "li")[-1] == "换油周" and subjects(api, "ann")[-1] == "Oil change week"
    assert "Oil change week" not in subjects(api, "bob") + subjects(api, "no")
    assert api.admin("GET", "/v1/outreach/campaigns/C-oil").body["counts"] == {
        "targeted": 2, "sent": 2, "suppressed": 0, "dropped": 0, "failed": 0}


def test_a_duplicate_dispatch_sends_once(api: Api, clock: FixedClock) -> None:
    member(api, "dan")
    api.purchase("O-1", "dan", 5000)
    api.tick()
    clock.advance(2 * DAY)
    reminder = _greeting(clock)
    service = wiring.outreach().sender
    verdicts = [service.deliver(reminder).verdict.value for _ in range(3)]
    api.tick()  # the scheduled copy of the same reminder arrives as well
    assert verdicts == ["sent", "dropped", "dropped"]
    assert subjects(api, "dan").count("How are you settling in, Dan?") == 1


def test_a_dispatcher_that_loses_the_race_to_claim_does_not_send(api: Api, clock: FixedClock,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Two dispatchers decide to send the same reminder; the send log's conditional claim lets one through."""
    member(api, "dan")
    api.purchase("O-1", "dan", 5000)
    api.tick()
    clock.advance(2 * DAY)
    reminder, service = _greeting(clock), wiring.outreach().sender
    real_record = DynamoOutreachStore.record
    rival: list[str] = []

    def record_after_a_rival(self: DynamoOutreachStore, *args: Any, **kwargs: Any) -> None:
        if args[1] == "sending" and not rival:
            rival.append("racing")
            rival[0] = service.deliver(reminder).verdict.value  # the other dispatcher gets there first
        real_record(self, *args, **kwargs)

    monkeypatch.setattr(DynamoOutreachStore, "record", record_after_a_rival)
    loser = service.deliver(reminder)
    assert rival == ["sent"] and (loser.verdict.value, loser.reason) == ("dropped", "already sent")
    assert subjects(api, "dan").count("How are you settling in, Dan?") == 1


def test_two_marketing_emails_racing_for_the_last_slot_of_the_cap(api: Api, clock: FixedClock,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    member(api, "dan")
    api.purchase("O-1", "dan", 5000)
    api.tick()
    clock.advance(2 * DAY)
    service = wiring.outreach().sender
    greeting = _greeting(clock)
    campaign = Reminder.new("dan", ReminderKind.CAMPAIGN, "C-1", clock.now(), data={"campaign_id": "C-1"})
    api.admin("POST", "/v1/outreach/campaigns", {"campaign_id": "C-1", "headline": {"en": "News"},
                                                 "message": {"en": "Hello"}, "filter": {"locales": ["fr"]}})
    real_record = DynamoOutreachStore.record
    rival: list[str] = []

    def record_after_a_rival(self: DynamoOutreachStore, *args: Any, **kwargs: Any) -> None:
        if args[1] == "sending" and not rival:
            rival.append("racing")
            rival[0] = service.deliver(campaign).verdict.value
        real_record(self, *args, **kwargs)

    monkeypatch.setattr(DynamoOutreachStore, "record", record_after_a_rival)
    late = service.deliver(greeting)
    assert rival == ["sent"]
    assert late.verdict.value == "deferred" and "frequency cap" in late.reason  # decided again, after the rival
    assert len([s for s in subjects(api, "dan") if s != "Thank you for your purchase, Dan"]) == 1


def _greeting(clock: FixedClock) -> Reminder:
    return Reminder.new("dan", ReminderKind.GREETING, "O-1", clock.now() - timedelta(minutes=1),
                        data={"order_id": "O-1", "amount_minor": 5000, "currency": "CNY", "items": []})


def test_admins_preview_a_template_for_a_member_without_sending_it(api: Api) -> None:
    member(api, "li", locale="zh-CN")
    api.purchase("O-1", "li", 12900, items=ITEMS)
    preview = api.admin("POST", "/v1/outreach/preview", {"member_id": "li", "kind": "checkin", "occasion": "O-1"})
    assert preview.status == 200
    assert preview.body["subject"] == "您的购买使用得怎么样?" and "Car wash ×6" in preview.body["text"]
    assert preview.body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert api.outbox() == []
    assert api.admin("POST", "/v1/outreach/preview", {"member_id": "nobody", "kind": "birthday"}).status == 404
    assert api.call("POST", "/v1/outreach/preview", {"member_id": "li", "kind": "birthday"}, as_="pos",
                    groups=("staff",)).status == 403


def test_members_set_their_preferences(api: Api) -> None:
    member(api, "dan", marketing_opt_in=False)
    changed = api.call("PATCH", "/v1/members/me/preferences", {"marketing_opt_in": True, "time_zone": "Europe/Berlin",
                                                               "notices": False}, as_="dan")
    assert changed.body == {"marketing_opt_in": True, "notices": False, "locale": "en",
                            "time_zone": "Europe/Berlin", "birthday": None}
    bad = api.call("PATCH", "/v1/members/me/preferences", {"time_zone": "Mars/Olympus"}, as_="dan")
    assert (bad.status, bad.slug) == (422, "validation-error")
    assert api.call("PATCH", "/v1/members/me/preferences", {"colour": "red"}, as_="dan").status == 422


def test_a_sender_that_crashes_leaves_its_batch_on_the_queue(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    # As on AWS: an invocation that fails (not a record reported failed) makes Lambda retry the whole batch.
    # Was: the local runner deleted the batch, so the thank-you was lost.
    import functions.sender.app as sender

    real = sender.process_partial_response
    crashes: list[int] = []

    def crash_once(**kwargs: Any) -> Any:
        if not crashes:
            crashes.append(1)
            raise RuntimeError("the sender fell over")
        return real(**kwargs)

    monkeypatch.setattr(sender, "process_partial_response", crash_once)
    member(api, "dan")
    api.purchase("O-1", "dan", 12900)
    api.tick()
    assert crashes == [1]
    assert subjects(api, "dan") == ["Thank you for your purchase, Dan"]


def _failing_once(monkeypatch: pytest.MonkeyPatch, fails: Any) -> list[int]:
    """SqsQueue.send raises (as a refused SendMessageBatch would) the first time ``fails(messages)`` holds."""
    from botocore.exceptions import ClientError

    from loyalty.outreach.messaging import SqsQueue

    failed: list[int]
    real, failed = SqsQueue.send, []

    def send(self: SqsQueue, messages: Any) -> None:
        if not failed and fails(messages):
            failed.append(1)
            raise ClientError({"Error": {"Code": "InternalError", "Message": "SQS fell over"}}, "SendMessageBatch")
        real(self, messages)

    monkeypatch.setattr(SqsQueue, "send", send)
    return failed


def test_a_campaign_whose_fan_out_could_not_be_queued_goes_out_when_the_request_is_retried(
        api: Api, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # Was: the campaign was recorded before its fan-out was queued; the retried POST found it and answered 200,
    # and the campaign was never sent.
    member(api, "dan")
    failed = _failing_once(monkeypatch, lambda messages: messages[0].get("type") == "campaign")
    campaign = {"campaign_id": "C-1", "headline": {"en": "Expert day"}, "message": {"en": "Saturday."}}
    first = api.admin("POST", "/v1/outreach/campaigns", campaign)
    assert failed == [1] and first.status >= 500, first.body
    assert api.admin("POST", "/v1/outreach/campaigns", campaign).status == 200
    api.tick()
    assert subjects(api, "dan").count("Expert day") == 1
    api.tick()
    assert subjects(api, "dan").count("Expert day") == 1


def test_members_planned_but_not_queued_are_queued_when_the_fan_out_is_retried(
        api: Api, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # Was: planning wrote "planned" first; when queueing the emails failed, the retried page found them planned
    # and queued nothing, so they were never sent.
    member(api, "dan")
    failed = _failing_once(monkeypatch, lambda messages: messages[0].get("kind") == "campaign")
    api.admin("POST", "/v1/outreach/campaigns", {"campaign_id": "C-1", "headline": {"en": "Expert day"},
                                                 "message": {"en": "Saturday."}})
    api.tick()
    assert failed == [1]
    api.tick()
    assert subjects(api, "dan").count("Expert day") == 1
    assert api.admin("GET", "/v1/outreach/campaigns/C-1").body["counts"]["targeted"] == 1


def test_a_sender_stopped_while_waiting_for_the_send_rate_leaves_nothing_claimed(
        api: Api, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    # Was: the send-rate wait came after the claim, so a function timing out in it left the reminder
    # "sending" for ever, never sent.
    from loyalty.outreach.messaging import SesMailer

    stopped: list[int]
    real, stopped = SesMailer.pace, []

    def pace(self: SesMailer) -> None:
        if not stopped:
            stopped.append(1)
            raise TimeoutError("the function ran out of time while waiting")
        real(self)

    monkeypatch.setattr(SesMailer, "pace", pace)
    member(api, "dan")
    api.purchase("O-1", "dan", 12900)
    api.tick()
    assert stopped == [1]
    assert api.messages("dan")[("thank_you", "O-1")]["status"] == "sent"
    assert subjects(api, "dan") == ["Thank you for your purchase, Dan"]

"""The rules that protect the member, and what each event plans (pure domain)."""

from __future__ import annotations

import base64
import email
from datetime import UTC, datetime, timedelta
from email.message import Message
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loyalty.ledger.assets import Bucket
from loyalty.members.domain import new_unsubscribe_id
from loyalty.outreach import mime, templates
from loyalty.outreach.plans import (
    Holiday,
    ReplacementRule,
    birthday_keys,
    birthday_this_year,
    plan_birthday,
    plan_purchase,
    replacement_interval,
)
from loyalty.outreach.policy import (
    Category,
    ContactHistory,
    OutreachSettings,
    Recipient,
    Reminder,
    ReminderKind,
    Verdict,
    cap_allows_at,
    decide,
    next_window_start,
    zone,
)
from loyalty.outreach.unsubscribe import Link, generation, read_token, token_for
from loyalty.purchases.domain import Credit, PurchaseRecord

NOON_SHANGHAI = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
SETTINGS = OutreachSettings()
DAN = Recipient("dan", "dan@example.com", "Dan", "en", "Asia/Shanghai", marketing_opt_in=True)


def greeting(at: datetime = NOON_SHANGHAI, **fields: object) -> Reminder:
    return Reminder.new("dan", ReminderKind.GREETING, "O-1", at, **fields)  # type: ignore[arg-type]


def test_marketing_in_the_window_with_consent_and_room_under_the_cap_is_sent() -> None:
    assert decide(greeting(), DAN, ContactHistory(), NOON_SHANGHAI, SETTINGS).verdict is Verdict.SEND


@pytest.mark.parametrize(("recipient", "reason"), [
    (Recipient("dan", "d@x", "Dan", "en", "UTC", marketing_opt_in=False), "no marketing consent"),
    (Recipient("dan", "d@x", "Dan", "en", "UTC", marketing_opt_in=True, suppressed="complaint"),
     "address suppressed (complaint)"),
])
def test_consent_and_suppression(recipient: Recipient, reason: str) -> None:
    decision = decide(greeting(), recipient, ContactHistory(), NOON_SHANGHAI, SETTINGS)
    assert (decision.verdict, decision.reason) == (Verdict.SUPPRESS, reason)


def test_the_receipt_needs_no_consent_and_ignores_quiet_hours_but_not_suppression() -> None:
    night = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)  # 02:00 in Shanghai
    receipt = Reminder.new("dan", ReminderKind.THANK_YOU, "O-1", night)
    no_consent = Recipient("dan", "d@x", "Dan", "en", "Asia/Shanghai", marketing_opt_in=False)
    assert decide(receipt, no_consent, ContactHistory(), night, SETTINGS).verdict is Verdict.SEND
    bounced = Recipient("dan", "d@x", "Dan", "en", "Asia/Shanghai", marketing_opt_in=False, suppressed="bounce")
    assert decide(receipt, bounced, ContactHistory(), night, SETTINGS).verdict is Verdict.SUPPRESS


def test_notices_follow_their_own_switch() -> None:
    notice = Reminder.new("dan", ReminderKind.POINTS_AVAILABLE, "O-1", NOON_SHANGHAI, data={"points": 5})
    off = Recipient("dan", "d@x", "Dan", "en", "Asia/Shanghai", marketing_opt_in=False, notices=False)
    assert decide(notice, off, ContactHistory(), NOON_SHANGHAI, SETTINGS).reason == "notices turned off"
    on = Recipient("dan", "d@x", "Dan", "en", "Asia/Shanghai", marketing_opt_in=False)
    assert decide(notice, on, ContactHistory(), NOON_SHANGHAI, SETTINGS).verdict is Verdict.SEND


def test_quiet_hours_defer_to_nine_in_the_members_zone() -> None:
    late = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)  # 20:30 in Shanghai
    decision = decide(greeting(late), DAN, ContactHistory(), late, SETTINGS)
    assert decision.verdict is Verdict.DEFER
    assert decision.until == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)),
       st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/Berlin", "Pacific/Kiritimati", "UTC"]))
def test_the_window_opens_at_the_next_nine_local_and_never_later(now: datetime, name: str) -> None:
    tz = zone(name, "UTC")
    opens = next_window_start(now, tz, SETTINGS)
    local = now.astimezone(tz)
    inside = 9 <= local.hour < 20
    assert (opens is None) == inside
    if opens is not None:
        assert opens > now and opens - now <= timedelta(hours=13, minutes=1)
        assert opens.astimezone(tz).hour == 9 and opens.astimezone(tz).minute == 0


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)))
def test_quiet_hours_inside_one_night_leave_the_rest_of_the_day_open(now: datetime) -> None:
    # Was: a window that runs past midnight (quiet 00:30–08:00, so sending 08:00–00:30) was never open.
    settings = OutreachSettings(quiet_start="00:30", quiet_end="08:00")
    opens = next_window_start(now, UTC, settings)
    minutes = now.hour * 60 + now.minute
    assert (opens is None) == (minutes >= 8 * 60 or minutes < 30)
    if opens is not None:
        assert opens > now and (opens.hour, opens.minute) == (8, 0)


def test_the_cap_two_days_apart_and_four_a_month() -> None:
    now = NOON_SHANGHAI
    assert cap_allows_at(ContactHistory((now - timedelta(hours=47),)), now, SETTINGS) == now + timedelta(hours=1)
    four = tuple(now - timedelta(days=d) for d in (29, 20, 10, 3))
    assert cap_allows_at(ContactHistory(four), now, SETTINGS) == four[0] + timedelta(days=30)
    old = tuple(now - timedelta(days=d) for d in (40, 35, 31, 3))  # only one within 30 days
    assert cap_allows_at(ContactHistory(old), now, SETTINGS) == now
    assert cap_allows_at(ContactHistory(four), now, OutreachSettings(max_per_30_days=0)) == now


def test_a_greeting_that_cannot_go_out_within_a_week_is_dropped() -> None:
    now = NOON_SHANGHAI
    full = ContactHistory(tuple(now - timedelta(days=d) for d in (2, 3, 4, 5)))
    stale = greeting(now - timedelta(days=3))
    decision = decide(stale, DAN, full, now, SETTINGS)
    assert decision.verdict is Verdict.DROP and "expire" in decision.reason
    assert decide(greeting(now - timedelta(days=8)), DAN, ContactHistory(), now, SETTINGS).verdict is Verdict.DROP


def test_a_local_date_waits_for_the_day_and_drops_after_it() -> None:
    now = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)  # the 24th, 04:00 in Shanghai; the 23rd in New York
    birthday = Reminder.new("dan", ReminderKind.BIRTHDAY, "2026", now, local_date="2026-11-24")
    ny = Recipient("ny", "n@x", "Ny", "en", "America/New_York", marketing_opt_in=True)
    waiting = decide(birthday, ny, ContactHistory(), now, SETTINGS)
    assert waiting.verdict is Verdict.DEFER and waiting.until == datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
    past = Reminder.new("dan", ReminderKind.BIRTHDAY, "2026", now, local_date="2026-11-23")
    assert decide(past, DAN, ContactHistory(), now, SETTINGS).verdict is Verdict.DROP


def test_cancelled_occasions_are_dropped_with_the_reason() -> None:
    decision = decide(greeting(), DAN, ContactHistory(), NOON_SHANGHAI, SETTINGS, cancelled="the order was refunded")
    assert (decision.verdict, decision.reason) == (Verdict.DROP, "cancelled: the order was refunded")


def test_a_purchase_plans_its_follow_ups() -> None:
    at = "2026-11-30T09:30:00Z"
    purchase = PurchaseRecord(
        order_id="O-1", member_id="dan", amount_minor=12900, currency="CNY", refunded_minor=0,
        credits=(Credit("dan", 0, 129, Bucket.PENDING, at, 1), Credit("carol", 1, 12, Bucket.PENDING, at, 1),
                 Credit("partner#p1", -1, 645, Bucket.PENDING, at, 1, "queued", "commission")),  # a partner: no email
        items=({"sku": "F-1", "category": "filters"}, {"sku": "X", "category": "other"}),
        occurred_at="2026-11-23T09:30:00Z", recorded_at="2026-11-23T09:30:00Z")
    plans = plan_purchase(purchase, SETTINGS, [ReplacementRule(90, category="filters")])
    shown = {(r.member_id, r.kind.value, r.occasion, r.due_at.isoformat()) for r in plans}
    assert shown == {
        ("dan", "thank_you", "O-1", "2026-11-23T09:30:00+00:00"),
        ("dan", "greeting", "O-1", "2026-11-25T09:30:00+00:00"),
        ("dan", "checkin", "O-1", "2026-11-30T09:30:00+00:00"),
        ("dan", "winback", "O-1", "2027-01-22T09:30:00+00:00"),
        ("dan", "points_available", "O-1", "2026-11-30T09:30:00+00:00"),
        ("carol", "points_available", "O-1", "2026-11-30T09:30:00+00:00"),
        ("dan", "replacement", "O-1:F-1", "2027-02-21T09:30:00+00:00"),
    }


def test_a_sku_rule_wins_over_its_category() -> None:
    rules = [ReplacementRule(90, category="filters"), ReplacementRule(30, sku="F-1")]
    assert replacement_interval({"sku": "F-1", "category": "filters"}, rules).interval_days == 30  # type: ignore[union-attr]
    assert replacement_interval({"sku": "F-2", "category": "filters"}, rules).interval_days == 90  # type: ignore[union-attr]
    assert replacement_interval({"sku": "F-3"}, rules) is None


def test_birthdays_leap_days_and_settling() -> None:
    assert birthday_this_year(datetime(2000, 2, 29).date(), 2027).isoformat() == "2027-02-28"
    assert birthday_this_year(datetime(2000, 2, 29).date(), 2028).isoformat() == "2028-02-29"
    assert "02-29" in birthday_keys(datetime(2027, 2, 28, 12, tzinfo=UTC))
    now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
    assert plan_birthday("li", "1990-11-24", None, "Asia/Shanghai", now, SETTINGS) is not None
    assert plan_birthday("li", "1990-11-24", None, "America/New_York", now, SETTINGS) is None
    assert plan_birthday("li", "1990-11-24", "2026-11-10T00:00:00Z", "Asia/Shanghai", now, SETTINGS) is None
    assert plan_birthday("li", "1990-11-24", "2026-09-01T00:00:00Z", "Asia/Shanghai", now, SETTINGS) is not None


def test_a_holiday_may_have_started_from_the_first_time_zone_to_the_last() -> None:
    new_year = Holiday("ny", "2027-01-01", {"en": "New Year"})
    assert not new_year.may_have_started(datetime(2026, 12, 31, 9, 0, tzinfo=UTC))
    assert new_year.may_have_started(datetime(2026, 12, 31, 10, 0, tzinfo=UTC))  # 00:00 in Kiritimati (UTC+14)
    assert new_year.may_have_started(datetime(2027, 1, 2, 11, 0, tzinfo=UTC))  # 23:00 on the 1st at UTC-12
    assert not new_year.may_have_started(datetime(2027, 1, 2, 12, 0, tzinfo=UTC))


CONTEXT = {"display_name": "Li <b>", "shop_name": "Shop", "app_link": "https://app", "unsubscribe_link": "https://u",
           "order_id": "O-1", "amount": "129.00 CNY", "items": "Wash", "feedback_link": "https://f",
           "points": 12, "available": 30, "item_name": "Filter", "interval_days": 90, "days": 60,
           "holiday_name": "春节", "headline": "News", "message": "Hello", "on": "2027-12-31",
           "feedback_id": "FB-1", "feedback_text": "The wax streaked", "reply_text": "We will wash it again",
           "rating": "2/5", "sent_at": "2026-11-23T09:30:00Z", "guides": ""}


@pytest.mark.parametrize("kind", list(ReminderKind))
@pytest.mark.parametrize("locale", ["en", "zh-CN", "zh-TW", "fr"])
def test_every_template_renders_in_every_locale(kind: ReminderKind, locale: str) -> None:
    from loyalty.outreach.policy import CATEGORY

    rendered = templates.render(kind, locale, CONTEXT, CATEGORY[kind])
    assert rendered.subject and "$" not in rendered.subject + rendered.text + rendered.html
    assert "Li &lt;b&gt;" in rendered.html and "<b>" not in rendered.html.split("<body")[1].split("Li")[1][:5]
    if CATEGORY[kind] is Category.MARKETING:
        assert "https://u" in rendered.text and 'href="https://u"' in rendered.html
    else:
        assert "https://u" not in rendered.text
    chinese = locale.startswith("zh")
    assert chinese == any("\u4e00" <= ch <= "\u9fff" for ch in (rendered.subject + rendered.text).replace("春节", ""))


def test_unsubscribe_tokens_are_bound_to_one_id_one_opt_in_and_the_secret() -> None:
    secret, dan, eve = b"s" * 32, new_unsubscribe_id(), new_unsubscribe_id()
    token = token_for(dan, "2026-11-23T09:30:00Z", secret)
    assert read_token(token, secret) == Link(dan, generation("2026-11-23T09:30:00Z"))
    assert read_token(token, b"other" * 8) is None
    head, tail = token.split(".")
    eve_head = token_for(eve, "2026-11-23T09:30:00Z", secret).split(".")[0]
    assert read_token(f"{eve_head}.{tail}", secret) is None
    later = token_for(dan, "2026-12-01T00:00:00Z", secret)  # after opting in again: another generation
    assert read_token(later, secret) == Link(dan, generation("2026-12-01T00:00:00Z")) != read_token(token, secret)
    assert read_token(f"{later.split('.')[0]}.{tail}", secret) is None  # the generation is signed too
    assert read_token("garbage", secret) is None and read_token(f"{head}.", secret) is None
    assert read_token(f"{head}.!!!", secret) is None


def test_an_unsubscribe_token_names_no_member() -> None:
    token = token_for(new_unsubscribe_id(), None, b"s" * 32)
    member_id = "4f2c1e8a-9b3d-4c7e-a1f0-6d5b2e9c8a41"
    assert member_id not in token and base64.urlsafe_b64encode(member_id.encode()).decode()[:20] not in token


def test_the_mime_message_carries_rfc_8058_one_click_unsubscribe() -> None:
    rendered = templates.render(ReminderKind.GREETING, "en", CONTEXT, Category.MARKETING)
    raw = mime.build(sender="Shop <no-reply@shop.example>", to="li@example.com", email=rendered,
                     sent_at=NOON_SHANGHAI, unsubscribe_url="https://api/u/t", headers={"X-Loyalty-Kind": "greeting"})
    message = email.message_from_bytes(raw)
    assert message["List-Unsubscribe"] == "<https://api/u/t>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    # a multipart message's payload is the list of its parts
    assert [p.get_content_type() for p in cast("list[Message]", message.get_payload())] == ["text/plain", "text/html"]

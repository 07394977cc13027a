"""Usage guides end to end: the admin's guides per SKU or category, in the thank-you and the D+7 check-in that the
local SES receives, in the member's language; the preview shows them (docs/reminders.md, "Usage guides")."""

from __future__ import annotations

from typing import Any

from loyalty.shared.clock import FixedClock
from tests.support import Api

DAY = 86400
FILTER_GUIDE = {"zh-CN": {"title": "滤芯使用说明", "text": "安装前请冲洗滤芯五分钟。\n每三个月更换一次。",
                          "link": "https://shop.example/guides/filters"},
                "en": {"title": "Using your filter", "text": "Rinse the filter for five minutes before fitting it."}}
WIPER_GUIDE = {"en": {"title": "Fitting wiper blades", "text": "Press the clip <b>gently</b> & slide the blade off."}}
RULES = {"rules": [
    {"category": "filters", "interval_days": 90, "guide": FILTER_GUIDE},
    {"sku": "WIPER-22", "guide": WIPER_GUIDE},  # a guide and no interval: no replacement reminder
    {"category": "wipers", "interval_days": 365},  # an interval and no guide (a rule as it was before guides)
]}
ITEMS = [{"sku": "F-22", "name": "Water filter", "category": "filters", "quantity": 1, "amount_minor": 5000},
         {"sku": "F-23", "name": "Shower filter", "category": "filters", "quantity": 2, "amount_minor": 6000},
         {"sku": "WIPER-22", "name": "Wiper blades", "category": "wipers", "quantity": 1, "amount_minor": 4000},
         {"sku": "MUG", "name": "Mug", "category": "kitchen", "quantity": 1, "amount_minor": 1000}]


def member(api: Api, sub: str, locale: str) -> None:
    # No cap or gap: the greeting of day 2 must not push the check-in of day 7 later (that is the cap's own test).
    assert api.admin("PUT", "/v1/outreach/settings", {"min_gap_hours": 0, "max_per_30_days": 0}).status == 200
    api.sign_up(sub, None, marketing_opt_in=True, locale=locale, time_zone="Asia/Shanghai")


def mail(api: Api, sub: str, subject: str) -> dict[str, Any]:
    found = [m for m in api.outbox(f"{sub}@example.com") if subject in m["subject"]]
    assert len(found) == 1, [m["subject"] for m in api.outbox(f"{sub}@example.com")]
    return found[0]


def test_the_thank_you_and_the_check_in_carry_the_guides_in_the_members_language(api: Api, clock: FixedClock) -> None:
    assert api.admin("PUT", "/v1/outreach/replacements", RULES).status == 200
    member(api, "li", "zh-CN")
    assert api.purchase("O-1", "li", 16000, items=ITEMS).status == 201
    api.tick()
    thanks = mail(api, "li", "感谢您的购买")
    text, page = thanks["text"], thanks["html"]
    assert "使用指南" in text
    assert "滤芯使用说明\n安装前请冲洗滤芯五分钟。\n每三个月更换一次。\nhttps://shop.example/guides/filters" in text
    assert text.count("滤芯使用说明") == 1  # two filters in the order, one guide
    assert "Using your filter" not in text  # the member's language, not the other
    assert "Fitting wiper blades\nPress the clip <b>gently</b> & slide the blade off." in text  # no zh-CN: the en one
    assert text.index("滤芯使用说明") < text.index("Fitting wiper blades")  # in the order of the items
    assert "安装前请冲洗滤芯五分钟。<br>每三个月更换一次。" in page
    assert '<a href="https://shop.example/guides/filters">查看详情</a>' in page
    assert "Press the clip &lt;b&gt;gently&lt;/b&gt; &amp; slide the blade off." in page and "<b>gently" not in page
    assert "Mug" in text  # the item without a guide is still in the order's line

    clock.advance(7 * DAY)
    api.tick()
    checkin = mail(api, "li", "您的购买使用得怎么样")
    assert "使用指南" in checkin["text"] and "安装前请冲洗滤芯五分钟。" in checkin["text"]
    assert "Fitting wiper blades" in checkin["text"] and "安装前请冲洗滤芯五分钟。<br>" in checkin["html"]
    assert ("replacement", "O-1:WIPER-22") not in api.messages("li")  # its SKU's rule has no interval …
    clock.advance(90 * DAY)
    api.tick()
    assert ("replacement", "O-1:F-22") in api.messages("li")
    clock.advance(365 * DAY - 97 * DAY)
    api.tick()
    assert ("replacement", "O-1:WIPER-22") in api.messages("li")  # … so its category's 365 days hold


def test_an_english_member_gets_the_english_guide(api: Api) -> None:
    api.admin("PUT", "/v1/outreach/replacements", RULES)
    member(api, "dan", "en")
    api.purchase("O-1", "dan", 5000, items=ITEMS[:1])
    api.tick()
    thanks = mail(api, "dan", "Thank you")
    assert "How to use what you bought\n\nUsing your filter\nRinse the filter for five minutes" in thanks["text"]
    assert "滤芯" not in thanks["text"] + thanks["html"]


def test_the_check_in_sends_the_guide_as_it_reads_when_it_is_sent(api: Api, clock: FixedClock) -> None:
    api.admin("PUT", "/v1/outreach/replacements", RULES)
    member(api, "li", "zh-CN")
    api.purchase("O-1", "li", 5000, items=ITEMS[:1])
    api.tick()
    fixed = {"zh-CN": {**FILTER_GUIDE["zh-CN"], "text": "安装前请冲洗滤芯十分钟。"}}
    api.admin("PUT", "/v1/outreach/replacements", {"rules": [{"category": "filters", "guide": fixed}]})
    clock.advance(7 * DAY)
    api.tick()
    checkin = mail(api, "li", "您的购买使用得怎么样")
    assert "安装前请冲洗滤芯十分钟。" in checkin["text"] and "五分钟" not in checkin["text"]


def test_an_order_with_nothing_the_guides_cover_has_no_guide_section(api: Api, clock: FixedClock) -> None:
    api.admin("PUT", "/v1/outreach/replacements", RULES)
    member(api, "li", "zh-CN")
    api.purchase("O-1", "li", 1000, items=ITEMS[3:])
    api.purchase("O-2", "li", 1000)  # no items at all
    api.tick()
    clock.advance(7 * DAY)
    api.tick()
    sent = [m for m in api.outbox("li@example.com")
            if "感谢您的购买" in m["subject"] or "您的购买使用得怎么样" in m["subject"]]
    assert len(sent) == 4
    for email in sent:
        assert "使用指南" not in email["text"] + email["html"] and "<h3" not in email["html"]


def test_the_preview_shows_the_guide(api: Api) -> None:
    api.admin("PUT", "/v1/outreach/replacements", RULES)
    member(api, "li", "zh-CN")
    api.purchase("O-1", "li", 5000, items=ITEMS[:1])
    reply = api.admin("POST", "/v1/outreach/preview", {"member_id": "li", "kind": "checkin", "occasion": "O-1"})
    assert reply.status == 200, reply.body
    assert "滤芯使用说明" in reply.body["text"] and "滤芯使用说明" in reply.body["html"]


def test_rules_read_back_with_their_guides_and_old_rules_stay_valid(api: Api) -> None:
    saved = api.admin("PUT", "/v1/outreach/replacements", RULES)
    assert saved.status == 200, saved.body
    read = api.admin("GET", "/v1/outreach/replacements").body["rules"]
    assert read == saved.body["rules"]
    assert read[0]["guide"]["zh-CN"]["title"] == "滤芯使用说明" and read[0]["guide"]["en"]["link"] is None
    assert read[1]["interval_days"] is None and read[2]["guide"] is None


def test_a_bad_guide_is_refused_and_writes_nothing(api: Api) -> None:
    api.admin("PUT", "/v1/outreach/replacements", RULES)
    for bad in ({"category": "x"},  # neither an interval nor a guide
                {"category": "x", "guide": {}},
                {"category": "x", "guide": {"fr": {"title": "Filtre", "text": "Rincer."}}},
                {"category": "x", "guide": {"en": {"title": "T", "text": "x" * 1001}}},
                {"category": "x", "guide": {"en": {"title": "T" * 121, "text": "x"}}},
                {"category": "x", "guide": {"en": {"title": "T", "text": "x", "link": "javascript:alert(1)"}}},
                {"category": "x", "guide": {"en": {"title": "T", "text": "x", "link": "http://shop.example"}}},
                {"category": "x", "guide": {"en": {"title": "T", "text": "x", "html": "<b>"}}}):
        reply = api.admin("PUT", "/v1/outreach/replacements", {"rules": [bad]})
        assert reply.status == 422 and reply.headers["content-type"] == "application/problem+json", (bad, reply.body)
    assert api.admin("GET", "/v1/outreach/replacements").body["rules"][0]["guide"]["en"]["title"] == "Using your filter"

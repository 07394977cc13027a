"""The console's feedback inbox in a real browser, against `make run`'s server (fixtures of test_console.py).

Members send a complaint about their own order (with a rating) and a suggestion (docs/feedback.md). The cashier sees
both in the open inbox with their kind, rating and order, answers the complaint (an empty answer is refused next to
the field, nothing sent) and the member gets the answer by email in Chinese, once; the card shows the answer; the
cashier closes it and it moves to Closed, where the member's app sees it closed. A complaint left 24 hours shows the
service's alert. The inbox pages with its cursor. No serious or critical accessibility violation, no sideways
scrolling at 1024 and 390 px, in English and in Chinese.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests

from tests.e2e.browsing import PHONE, TABLET, Api, accessible_and_fits, open_console, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

STAFF = ("till", "staff")
INBOX = "[data-inbox=open] [data-feedback]"


def close_everything_open(api: Api) -> None:
    """The inbox this test works is its own: anything another test left open is closed first."""
    while True:
        items = api("GET", "/v1/feedback?status=open&limit=100", STAFF).json()["items"]
        if not items:
            return
        for left in items:
            assert api("PATCH", f"/v1/feedback/{left['feedback_id']}", STAFF, {"status": "closed"}).status_code == 200


def send(api: Api, member: str, feedback_id: str, kind: str, text: str, **extra: Any) -> dict[str, Any]:
    reply = api("POST", "/v1/members/me/feedback", (member,), {"feedback_id": feedback_id, "kind": kind, "text": text,
                                                               **extra})
    assert reply.status_code == 201, reply.text
    return dict(reply.json())


def outbox(base_url: str, to: str, kind: str) -> list[dict[str, Any]]:
    items = requests.get(f"{base_url}/local/outbox", timeout=10).json()["items"]
    return [m for m in items if m["to"] == to and m["headers"].get("X-Loyalty-Kind") == kind]


def move_clock(api: Api, seconds: int) -> None:
    assert api("POST", "/local/clock", STAFF, {"advance_seconds": seconds}).status_code == 200


def feedback_page(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/console/#/feedback")
    page.reload()
    page.wait_for_selector("[data-inbox], [data-empty]")


def test_the_cashier_answers_a_complaint_the_member_is_emailed_and_it_is_closed(
        browser: Any, base_url: str, api: Api) -> None:
    close_everything_open(api)
    api.sign_up("fb-mei", "王美")  # no locale: Chinese
    api.sign_up("fb-tom", "Tom", locale="en")
    bought = api("POST", "/v1/purchases", STAFF, {"order_id": "O-FB-MEI", "member_id": "fb-mei",
                                                   "amount_minor": 12900, "currency": "CNY"})
    assert bought.status_code == 201, bought.text
    send(api, "fb-mei", "FB-E2E-1", "complaint", "车蜡没打匀，\n引擎盖上有痕迹。", order_id="O-FB-MEI", rating=2)
    move_clock(api, 60)
    send(api, "fb-tom", "FB-E2E-2", "suggestion", "Could you open on Sundays?", rating=4)

    page = open_console(browser, base_url, "cashier")
    assert page.query_selector("nav a[href='#/feedback']") is not None
    # The inbox a page of one at a time: "More" reads the next with the cursor.
    pages = re.compile(r"/v1/feedback\?")
    page.route(pages, lambda route: route.continue_(url=route.request.url.replace("limit=20", "limit=1")))
    page.click("nav a[href='#/feedback']")
    page.wait_for_selector(INBOX)
    assert page.eval_on_selector_all(INBOX, "cards => cards.map(c => c.dataset.feedback)") == ["FB-E2E-1"]
    page.click("[data-action=more]")
    page.wait_for_selector(f"{INBOX}:nth-child(2)")
    assert page.eval_on_selector_all(INBOX, "cards => cards.map(c => c.dataset.feedback)") == ["FB-E2E-1", "FB-E2E-2"]
    page.unroute(pages)

    card = "[data-feedback=FB-E2E-1]"
    assert page.inner_text(f"{card} h2") == "王美"
    assert page.get_attribute(f"{card} [data-kind]", "data-kind") == "complaint"
    assert page.inner_text(f"{card} [data-kind]") == "Complaint"
    assert page.get_attribute(f"{card} [data-rating]", "aria-label") == "2 of 5"
    assert "O-FB-MEI" in page.inner_text(f"{card} dl")
    assert page.inner_text(f"{card} [data-text]") == "车蜡没打匀，\n引擎盖上有痕迹。"
    assert page.get_attribute("[data-feedback=FB-E2E-2] [data-kind]", "data-kind") == "suggestion"

    # An empty answer is refused next to the field; nothing is sent.
    page.click(f"{card} [data-action=reply]")
    assert page.wait_for_selector(f"{card} [data-error-for=text]:not(:empty)")
    assert api("GET", "/v1/feedback?status=open", STAFF).json()["items"][0]["replies"] == []

    page.fill(f"{card} [name=text]", "很抱歉！本周任何一天来店，我们免费重新打蜡。")
    page.click(f"{card} [data-action=reply]")
    page.wait_for_selector(f"{card} [data-replies='1']")
    assert "免费重新打蜡" in page.inner_text(f"{card} [data-replies]")
    assert "Answer sent to 王美" in page.inner_text("[data-notice] [data-result]")
    shoot(page, "feedback")  # one answered, one waiting
    move_clock(api, 10 * 60)  # the due job's next slots: the email goes out
    [email] = outbox(base_url, "fb-mei@example.com", "feedback_reply")
    assert "已回复您的意见" in email["subject"] and "免费重新打蜡" in email["text"]

    page.click(f"{card} [data-action=close]")
    page.wait_for_selector(card, state="detached")
    assert "Closed" in page.inner_text("[data-notice] [data-result]")
    page.click("[data-tab=closed]")
    page.wait_for_selector("[data-inbox=closed] [data-feedback=FB-E2E-1]")
    assert page.get_attribute("[data-inbox=closed] [data-feedback=FB-E2E-1] [data-closed-by]", "data-closed-by") \
        == "cashier"
    mine = api("GET", "/v1/members/me/feedback", ("fb-mei",)).json()["items"][0]
    assert (mine["status"], [r["text"] for r in mine["replies"]]) == (
        "closed", ["很抱歉！本周任何一天来店，我们免费重新打蜡。"])
    assert len(outbox(base_url, "fb-mei@example.com", "feedback_reply")) == 1
    assert page.errors == []


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["tablet", "phone"])
def test_the_feedback_page_is_accessible_and_fits_without_horizontal_scrolling(
        browser: Any, base_url: str, api: Api, viewport: dict[str, int]) -> None:
    close_everything_open(api)
    width = viewport["width"]
    api.sign_up(f"fb-li-{width}", "李伟")
    api.sign_up(f"fb-ana-{width}", "Ana Lima", locale="en")
    send(api, f"fb-li-{width}", f"FB-A11Y-{width}-1", "complaint", "打了两次电话想改预约时间，都没有人接。", rating=1)
    move_clock(api, 25 * 3600)  # unanswered for 24 hours: the service alerts, the card says so
    send(api, f"fb-ana-{width}", f"FB-A11Y-{width}-2", "praise", "The new waiting room is lovely.", rating=5)
    for lang in ("en", "zh-CN"):
        page = open_console(browser, base_url, "owner", viewport=viewport, lang=lang, bypass_csp=True)
        feedback_page(page, base_url)
        page.wait_for_selector(f"[data-feedback=FB-A11Y-{width}-1] [data-overdue]")
        if lang == "zh-CN":
            assert page.inner_text("nav a[href='#/feedback']") == "顾客意见"
            assert page.inner_text(f"[data-feedback=FB-A11Y-{width}-1] [data-kind]") == "投诉"
        accessible_and_fits(page, f"feedback, open ({lang}, {width} px)")
        if viewport == TABLET and lang == "zh-CN":
            shoot(page, "feedback-zh")
        if viewport == PHONE and lang == "en":
            shoot(page, "feedback-phone")
        page.click("[data-tab=closed]")
        page.wait_for_selector("[data-inbox=closed], [data-empty=closed]")
        accessible_and_fits(page, f"feedback, closed ({lang}, {width} px)")
        assert page.errors == []

"""The console's review queue in a real browser, against `make run`'s server (fixtures of test_console.py).

A referee signs up on the referrer's phone (the same `device_id`) and buys: the referrer's credit is held for
review (docs/screening.md). The cashier sees it in the queue with its reason and score, rejects one credit and
approves another with a note: each leaves the queue, the referrer's pending points drop by the rejected credit and
keep the approved one, and the decided list says who decided what and why. A review someone else decided
meanwhile is refused with a clear message and the queue read again. The queue pages with its cursor. No serious or
critical accessibility violation, no sideways scrolling at 1024 and 390 px, in English and in Chinese.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.browsing import (
    PHONE,
    TABLET,
    Api,
    accessible_and_fits,
    open_console,
    shoot,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

STAFF = ("till", "staff")
QUEUE = "[data-queue] [data-review]"


def held(api: Api, referrer: dict[str, Any], sub: str, name: str, order_id: str, amount: int = 12900) -> dict[str, Any]:
    """`sub` signs up with the referrer's code on the referrer's phone and buys: the referrer's credit is held."""
    api.sign_up(sub, name, referral_code=referrer["referral_code"], device_id=f"phone-{referrer['member_id']}")
    bought = api("POST", "/v1/purchases", STAFF,
                 {"order_id": order_id, "member_id": sub, "amount_minor": amount, "currency": "CNY"})
    assert bought.status_code == 201, bought.text
    credit: dict[str, Any] = next(c for c in bought.json()["credits"] if c["member_id"] == referrer["member_id"])
    assert credit["bucket"] == "pending" and credit["review_id"].startswith("rv_"), credit
    return credit


def a_referrer(api: Api, sub: str, name: str) -> dict[str, Any]:
    """A member whose app sends its phone's id: anyone signing up on that phone shares it."""
    return api.sign_up(sub, name, device_id=f"phone-{sub}")


def a_minute_later(api: Api) -> None:
    """The server's clock a minute on: what happens next is later by its clock, not only by a tie-break."""
    assert api("POST", "/local/clock", STAFF, {"advance_seconds": 60}).status_code == 200


def open_reviews(api: Api) -> list[dict[str, Any]]:
    reply = api("GET", "/v1/reviews?status=open&limit=100", STAFF)
    assert reply.status_code == 200, reply.text
    return list(reply.json()["items"])


def points(api: Api, member_id: str) -> dict[str, int]:
    return dict(api.member(member_id)["balances"]["points"])


def decide(page: Any, review_id: str, decision: str, note: str) -> None:
    row = f"[data-review={review_id}]"
    page.fill(f"{row} [name=note]", note)
    page.click(f"{row} [data-decision={decision}]")


def reviews_page(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/console/#/reviews")
    page.reload()
    page.wait_for_selector("[data-queue], [data-empty]")


def test_the_cashier_rejects_one_held_credit_and_approves_another_and_the_points_follow(
        browser: Any, base_url: str, api: Api) -> None:
    # The queue this test works is its own: anything another test left open is decided first.
    for left in open_reviews(api):
        api("POST", f"/v1/reviews/{left['review_id']}/decision", STAFF, {"decision": "approve", "note": "earlier test"})
    ann = a_referrer(api, "ann", "Ann")
    bob = held(api, ann, "bob", "Bob", "O-BOB")
    a_minute_later(api)
    cat = held(api, ann, "cat", "Cat", "O-CAT")
    before = points(api, "ann")
    assert before["pending"] == bob["points"] + cat["points"] and before["available"] == 0

    page = open_console(browser, base_url, "cashier")
    assert page.query_selector("nav a[href='#/reviews']") is not None
    # The queue as the API answers it, a page of one at a time: the "More" button reads the next with the cursor.
    pages = re.compile(r"/v1/reviews\?")
    page.route(pages, lambda route: route.continue_(url=route.request.url.replace("limit=20", "limit=1")))
    page.click("nav a[href='#/reviews']")
    page.wait_for_selector(QUEUE)
    assert page.eval_on_selector_all(QUEUE, "rows => rows.map(r => r.dataset.review)") == [bob["review_id"]]
    page.click("[data-action=more]")
    page.wait_for_selector(f"{QUEUE}:nth-child(2)")
    assert page.eval_on_selector_all(QUEUE, "rows => rows.map(r => r.dataset.review)") == [bob["review_id"],
                                                                                          cat["review_id"]]
    page.wait_for_selector("[data-action=more]", state="detached")
    page.unroute(pages)

    row = f"[data-review={bob['review_id']}]"
    assert page.inner_text(f"{row} h2") == "Ann"
    assert page.get_attribute(f"{row} h2 a", "href") == "#/member/ann"
    assert page.get_attribute(f"{row} [data-score]", "data-score") == "60"
    assert "Score 60" in page.inner_text(f"{row} [data-score]")
    assert page.eval_on_selector_all(f"{row} [data-reason]", "rs => rs.map(r => [r.dataset.reason, r.textContent])") \
        == [["same_device", "Same device +60"]]
    facts = page.inner_text(f"{row} dl")
    assert "O-BOB" in facts and "Bob" in facts and f"{bob['points']} points" in facts and "Referrer" in facts
    shoot(page, "reviews")

    # A note is required: a decision without one is refused next to it, and nothing is decided.
    page.click(f"{row} [data-decision=reject]")
    assert page.wait_for_selector(f"{row} [data-error-for=note]:not(:empty)")
    assert page.get_attribute(f"{row} [name=note]", "aria-invalid") == "true"
    assert len(open_reviews(api)) == 2

    decide(page, bob["review_id"], "reject", "Bob signed up on Ann's phone: the same person.")
    page.wait_for_selector(f"{row}", state="detached")
    assert "Rejected" in page.inner_text("[data-notice] [data-result=reject]")
    after_reject = points(api, "ann")
    assert after_reject["pending"] == before["pending"] - bob["points"]
    assert after_reject["lifetime_earned"] == before["lifetime_earned"] - bob["points"]
    assert after_reject["available"] == 0

    a_minute_later(api)
    decide(page, cat["review_id"], "approve", "Cat is Ann's daughter; the family tablet.")
    page.wait_for_selector("[data-empty=open]")
    assert "Approved" in page.inner_text("[data-notice] [data-result=approve]")
    assert page.query_selector(QUEUE) is None
    assert open_reviews(api) == []
    after_approve = points(api, "ann")  # the hold is not over: approved, the credit stays pending until it ends
    assert (after_approve["pending"], after_approve["available"]) == (cat["points"], 0)

    page.click("[data-tab=decided]")
    page.wait_for_selector("[data-decided] tbody tr")
    decided = page.eval_on_selector_all("[data-decided] tbody tr", """rows => rows.map(r => [r.dataset.review,
        r.dataset.status, r.children[7].textContent, r.querySelector('[data-note]').textContent])""")
    assert decided[:2] == [[cat["review_id"], "approved", "cashier", "Cat is Ann's daughter; the family tablet."],
                           [bob["review_id"], "rejected", "cashier", "Bob signed up on Ann's phone: the same person."]]

    page.goto(f"{base_url}/console/#/member/ann")
    page.wait_for_selector("[data-stat=pending] .value")
    assert int(page.inner_text("[data-stat=pending] .value").replace(",", "")) == cat["points"]
    assert page.errors == []


def test_a_review_someone_else_decided_is_refused_with_a_message_and_the_queue_is_read_again(
        browser: Any, base_url: str, api: Api) -> None:
    dee = a_referrer(api, "dee", "Dee")
    eve = held(api, dee, "eve", "Eve", "O-EVE")
    page = open_console(browser, base_url, "cashier")
    reviews_page(page, base_url)
    row = f"[data-review={eve['review_id']}]"
    page.wait_for_selector(row)

    # Another cashier approves it first, through the API.
    first = api("POST", f"/v1/reviews/{eve['review_id']}/decision", ("pos", "staff"),
                {"decision": "approve", "note": "checked at the other till"})
    assert first.status_code == 200, first.text
    before = points(api, "dee")

    decide(page, eve["review_id"], "reject", "looks like a farm")
    message = page.wait_for_selector("[data-notice] [data-closed]")
    assert message.get_attribute("role") == "alert"
    assert "Someone else decided this review already (approved by pos)" in message.inner_text()
    page.wait_for_selector(row, state="detached")  # the queue was read again: the review is gone from it
    shown = api("GET", f"/v1/reviews/{eve['review_id']}", STAFF).json()
    assert (shown["status"], shown["decided_by"], shown["note"]) == ("approved", "pos", "checked at the other till")
    assert points(api, "dee") == before and before["pending"] == eve["points"]
    assert page.errors == []


def test_the_owner_works_the_queue_too_and_a_member_may_not_read_it(browser: Any, base_url: str, api: Api) -> None:
    assert api("GET", "/v1/reviews", ("someone",)).status_code == 403
    page = open_console(browser, base_url, "owner")
    page.click("nav a[href='#/reviews']")
    page.wait_for_selector("[data-queue], [data-empty]")
    assert page.inner_text("main h1") == "Reviews"


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["tablet", "phone"])
def test_the_reviews_page_is_accessible_and_fits_without_horizontal_scrolling(
        browser: Any, base_url: str, api: Api, viewport: dict[str, int]) -> None:
    fay = a_referrer(api, f"fay-{viewport['width']}", "Fay")
    # Two held credits of Fay's: one decided (the decided list), one open (the queue).
    first, _ = [held(api, fay, f"gus-{viewport['width']}-{n}", f"Gus {n}", f"O-GUS-{viewport['width']}-{n}")
                for n in (1, 2)]
    decided = api("POST", f"/v1/reviews/{first['review_id']}/decision", STAFF,
                  {"decision": "reject", "note": "Signed up on the referrer's phone: the same person."})
    assert decided.status_code == 200, decided.text
    for lang in ("en", "zh-CN"):
        page = open_console(browser, base_url, "owner", viewport=viewport, lang=lang, bypass_csp=True)
        reviews_page(page, base_url)
        page.wait_for_selector(QUEUE)
        if lang == "zh-CN":
            assert "同一设备" in page.inner_text(f"{QUEUE} [data-reason=same_device]")
            assert page.inner_text("nav a[href='#/reviews']") == "奖励审核"
        accessible_and_fits(page, f"reviews, open ({lang}, {viewport['width']} px)")
        if viewport == TABLET and lang == "zh-CN":
            shoot(page, "reviews-zh")
        page.click("[data-tab=decided]")
        page.wait_for_selector("[data-decided] tbody tr")
        accessible_and_fits(page, f"reviews, decided ({lang}, {viewport['width']} px)")
        if viewport == TABLET and lang == "en":
            shoot(page, "reviews-decided")
        assert page.errors == []

"""The console's segments grid in a real browser, against `make run`'s server (fixtures of test_console.py).

Members buy different amounts; the daily recompute (the clock moved a day) classes them (docs/segments.md). The
cashier's Segments page shows the 4×3 grid with the counts `GET /v1/segments` gives, each cell shaded by its count;
clicking the top spender's cell lists its members a page at a time (the cursor), the top spender among them. No
serious or critical accessibility violation, no sideways scrolling at 1024 and 390 px, in English and in Chinese.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.browsing import PHONE, TABLET, Api, accessible_and_fits, open_console, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

STAFF = ("till", "staff")
CELLS = [f"{k}{g}" for k in "ABCD" for g in (1, 2, 3)]


def buy(api: Api, member: str, order_id: str, amount_minor: int) -> None:
    reply = api("POST", "/v1/purchases", STAFF, {"order_id": order_id, "member_id": member,
                                                  "amount_minor": amount_minor, "currency": "CNY"})
    assert reply.status_code == 201, reply.text


def recompute(api: Api) -> None:
    assert api("POST", "/local/clock", STAFF, {"advance_seconds": 86400}).status_code == 200


def segments_page(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/console/#/segments")
    page.reload()
    page.wait_for_selector("[data-grid]")


def test_the_grid_shows_the_counts_and_a_cell_opens_its_members(browser: Any, base_url: str, api: Api) -> None:
    api.sign_up("sg-big", "大客户")
    api.sign_up("sg-small", "Small", locale="en")
    buy(api, "sg-big", "O-SG-BIG", 99_999_900)  # more than anyone else's test purchases: class A
    buy(api, "sg-small", "O-SG-SMALL", 100)
    recompute(api)
    counts = api("GET", "/v1/segments", STAFF).json()["counts"]
    big = api("GET", "/v1/members/sg-big", STAFF).json()["segment"]
    assert (big["class"], big["source"]) == ("A", "computed")
    cell = f"A{big['grade']}"

    page = open_console(browser, base_url, "cashier")
    assert page.query_selector("nav a[href='#/segments']") is not None
    page.click("nav a[href='#/segments']")
    page.wait_for_selector("[data-grid]")
    shown = page.eval_on_selector_all("[data-cell]", "cells => cells.map(c => [c.dataset.cell, +c.dataset.count])")
    assert shown == [[c, counts[c]] for c in CELLS]
    assert page.inner_text(f"[data-cell={cell}] span") == f"{counts[cell]:,}"
    # A cell's members a page of one at a time: "More" reads the next with the cursor, until the top spender shows.
    pages = re.compile(r"/v1/segments/[A-D][1-3]/members\?")
    page.route(pages, lambda route: route.continue_(url=route.request.url.replace("limit=50", "limit=1")))
    page.click(f"[data-cell={cell}]")
    page.wait_for_selector(f"[data-members={cell}] [data-member]")
    assert page.get_attribute(f"[data-cell={cell}]", "aria-pressed") == "true"
    for _ in range(counts[cell]):
        if page.query_selector("[data-member=sg-big]") or not page.query_selector("[data-action=more]"):
            break
        before = len(page.query_selector_all("[data-members] [data-member]"))
        page.click("[data-action=more]")
        page.wait_for_selector(f"[data-members] [data-member]:nth-child({before + 1})")
    assert page.query_selector("[data-member=sg-big]") is not None
    page.unroute(pages)
    small = api("GET", "/v1/members/sg-small", STAFF).json()["segment"]
    assert small["class"] in "BCD" and small["class"] != "A"
    shoot(page, "segments")
    assert page.errors == []


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["tablet", "phone"])
def test_the_segments_page_is_accessible_and_fits_without_horizontal_scrolling(
        browser: Any, base_url: str, api: Api, viewport: dict[str, int]) -> None:
    width = viewport["width"]
    api.sign_up(f"sg-li-{width}", "李伟")
    buy(api, f"sg-li-{width}", f"O-SG-LI-{width}", 5000)
    recompute(api)
    for lang in ("en", "zh-CN"):
        page = open_console(browser, base_url, "owner", viewport=viewport, lang=lang, bypass_csp=True)
        segments_page(page, base_url)
        if lang == "zh-CN":
            assert page.inner_text("nav a[href='#/segments']") == "会员分群"
        page.click("[data-cell=D3]")
        page.wait_for_selector("[data-members=D3], [data-empty=D3]")
        accessible_and_fits(page, f"segments ({lang}, {width} px)")
        if viewport == TABLET and lang == "zh-CN":
            shoot(page, "segments-zh")
        if viewport == PHONE and lang == "en":
            shoot(page, "segments-phone")
        assert page.errors == []

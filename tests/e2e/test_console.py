"""The merchant console in a real browser (Debian's Chromium driven by Playwright) against `make run`'s server.

What a cashier and an owner do, asserted on what the pages show and on what the API then answers: a member
found by phone, a purchase, a refund and a redemption that move the balance on the member page; a bad input
refused next to its field with nothing written; a programme change published; the tree and the charts drawn;
no serious or critical accessibility violation (axe-core, in the page); no horizontal scrolling at tablet and
phone widths; a member card read by the camera (Chromium's fake camera playing a video of the card's QR).
With CONSOLE_SCREENSHOTS=<dir> (``make screenshots``) each page is saved there.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browsing import PHONE, TABLET, Api, accessible_and_fits, chromium, open_console, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

PAGES = ["counter", "dashboard", "program", "reminders", "verify", "wallet"]


@pytest.fixture(scope="module")
def shop(api: Api) -> dict[str, Any]:
    """A small shop: Mei (with a phone) referred by Lin, who was referred by Ann; Mei's friends below her."""
    ann = api.sign_up("ann", "Ann")
    lin = api.sign_up("lin", "Lin", referral_code=ann["referral_code"])
    mei = api.sign_up("mei", "Mei", referral_code=lin["referral_code"], phone="+8613800138000")
    for sub, name in (("kai", "Kai"), ("ona", "Ona"), ("pia", "Pia")):
        api.sign_up(sub, name, referral_code=mei["referral_code"])
    api.sign_up("quy", "Quy", referral_code=api.member("kai")["referral_code"])
    for n, (who, amount) in enumerate((("mei", 50000), ("kai", 12900), ("ona", 8800), ("mei", 30000))):
        reply = api("POST", "/v1/purchases", ("till", "staff"),
                    {"order_id": f"SEED-{n}", "member_id": who, "amount_minor": amount, "currency": "CNY"})
        assert reply.status_code == 201, reply.text
    return {"ann": ann, "lin": lin, "mei": mei}


def find_and_serve(page: Any, kind: str, value: str) -> None:
    page.goto(page.url.split("#")[0] + "#/counter")
    page.select_option("[data-field=kind] select", kind)
    page.fill("[data-field=q] input", value)
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("#desk-title")


def available_on_member_page(page: Any, member_id: str) -> int:
    page.goto(page.url.split("#")[0] + f"#/member/{member_id}")
    page.wait_for_selector("[data-stat=available] .value")
    return int(page.inner_text("[data-stat=available] .value").replace(",", ""))


def test_a_cashier_records_a_purchase_a_refund_and_a_redemption_and_the_member_page_follows(
        browser: Any, base_url: str, api: Api, shop: dict[str, Any]) -> None:
    page = open_console(browser, base_url, "cashier")
    before = api.member("mei")["balances"]["points"]

    find_and_serve(page, "phone", "138 0013 8000")  # typed as a cashier would: no +86, with spaces
    assert "Mei" in page.inner_text("#desk-title")
    page.fill("[data-form=purchase] [name=order_id]", "TILL-1")
    page.fill("[data-form=purchase] [name=amount]", "258.00")
    page.click("[data-form=purchase] button[type=submit]")
    page.wait_for_selector("[data-form=purchase] .result")
    assert "TILL-1" in page.inner_text("[data-form=purchase] .result")
    after_purchase = api.member("mei")["balances"]["points"]
    assert after_purchase["pending"] == before["pending"] + 258
    shoot(page, "counter-purchase")

    page.click("[data-tab=refund]")
    assert page.input_value("[data-form=refund] [name=order_id]") == "TILL-1"
    page.fill("[data-form=refund] [name=amount]", "58")
    page.click("[data-form=refund] button[type=submit]")
    page.wait_for_selector("[data-form=refund] .result")
    assert api.member("mei")["balances"]["points"]["pending"] == after_purchase["pending"] - 58

    # Points to redeem: the hold ends, and Mei's card code proves she is at the counter.
    api("POST", "/local/clock", ("till", "staff"), {"advance_seconds": 8 * 86400})
    page = open_console(browser, base_url, "cashier")
    available = api.member("mei")["balances"]["points"]["available"]
    assert available >= 300
    code = api("GET", "/v1/members/me/card", ("mei",)).json()["member_code"]
    find_and_serve(page, "member_code", code)
    page.click("[data-tab=redemption]")
    assert page.input_value("[data-form=redemption] [name=member_code]") == code
    page.fill("[data-form=redemption] [name=points]", "300")
    page.fill("[data-form=redemption] [name=reward]", "free car wash")
    page.click("[data-form=redemption] button[type=submit]")
    page.wait_for_selector("[data-form=redemption] .result")
    assert api.member("mei")["balances"]["points"]["available"] == available - 300
    assert available_on_member_page(page, "mei") == available - 300
    assert page.errors == []


def test_a_bad_input_shows_the_problem_next_to_its_field_and_writes_nothing(
        browser: Any, base_url: str, api: Api, shop: dict[str, Any]) -> None:
    page = open_console(browser, base_url, "cashier")
    entries = len(api.ledger("mei"))
    find_and_serve(page, "email", "MEI@example.com")
    page.fill("[data-form=purchase] [name=order_id]", "not a valid id!")
    page.fill("[data-form=purchase] [name=amount]", "10")
    page.click("[data-form=purchase] button[type=submit]")
    message = page.wait_for_selector("[data-form=purchase] [data-error-for=order_id]:not(:empty)")
    assert message.inner_text().strip()
    assert page.get_attribute("[data-form=purchase] [name=order_id]", "aria-invalid") == "true"
    assert page.inner_text("[data-form=purchase] [data-error-for=amount]") == ""

    page.click("[data-tab=redemption]")
    page.fill("[data-form=redemption] [name=points]", "5")
    page.fill("[data-form=redemption] [name=reward]", "coffee")
    page.fill("[data-form=redemption] [name=member_code]", "WRONGCODE1")
    page.click("[data-form=redemption] button[type=submit]")
    assert page.wait_for_selector("[data-form=redemption] [data-error-for=member_code]:not(:empty)")
    assert len(api.ledger("mei")) == entries
    shoot(page, "counter-refused")


def test_the_owner_publishes_a_programme_change_and_sees_the_new_version(
        browser: Any, base_url: str, api: Api, shop: dict[str, Any]) -> None:
    page = open_console(browser, base_url, "owner")
    page.click("nav a[href='#/program']")
    page.wait_for_selector("[data-versions]")
    version = api("GET", "/v1/program", ("till", "staff")).json()["version"]
    page.fill("[data-form=program] [name=referral_rates_bps]", "1000, 500, 200")
    page.click("[data-action=preview]")
    assert page.get_attribute("[data-rule=referral_rates_bps]", "class") == "changed"
    assert page.get_attribute("[data-rule=hold_days]", "class") == ""
    page.click("[data-form=program] button[type=submit]")
    page.wait_for_selector(f"[data-version='{version + 1}']")
    assert str(version + 1) in page.inner_text("#current-title")
    assert api("GET", "/v1/program", ("till", "staff")).json()["referral_rates_bps"] == [1000, 500, 200]
    shoot(page, "program")


def test_the_tree_and_the_dashboard_charts_are_drawn(browser: Any, base_url: str, api: Api,
                                                     shop: dict[str, Any]) -> None:
    page = open_console(browser, base_url, "cashier")
    page.goto(f"{base_url}/console/#/member/mei")
    page.wait_for_selector("svg.tree")
    names = page.eval_on_selector_all("svg.tree g.node text", "nodes => nodes.map(n => n.textContent)")
    assert {"Mei", "Kai", "Ona", "Pia", "Quy"} <= set(names)
    assert page.eval_on_selector_all("svg.tree path.link", "links => links.length") == len(names) - 1
    page.wait_for_selector("[data-chain=verified]")
    shoot(page, "member")

    page.click("nav a[href='#/dashboard']")
    page.wait_for_selector("[data-chart=purchases] canvas")
    page.wait_for_timeout(300)
    drawn = page.eval_on_selector_all("[data-chart] canvas", """canvases => canvases.map(c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let bars = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 200 && d[i + 2] > 150 && d[i] < 80) bars++;
        return bars; })""")
    assert len(drawn) == 3 and all(n > 50 for n in drawn), drawn
    assert page.inner_text("[data-metric=purchases] .value").strip() not in ("", "0", "—")
    shoot(page, "dashboard")


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["tablet", "phone"])
def test_every_page_is_accessible_and_fits_without_horizontal_scrolling(
        browser: Any, base_url: str, api: Api, shop: dict[str, Any], viewport: dict[str, int]) -> None:
    for lang in ("en", "zh-CN"):
        page = open_console(browser, base_url, "owner", viewport=viewport, lang=lang, bypass_csp=True)
        for name in [*PAGES, "member/mei", "signin"]:
            page.goto(f"{base_url}/console/#/{name}")
            page.wait_for_selector("main h1")
            page.wait_for_load_state("networkidle")
            accessible_and_fits(page, f"{name} ({lang}, {viewport['width']} px)")
            if lang == "zh-CN" and viewport == TABLET:
                shoot(page, f"{name.replace('/', '-')}-zh")
        assert page.errors == []


def card_video(browser: Any, svg: str, path: Path) -> None:
    """A y4m video (what Chromium's fake camera plays) of the card's QR as the API drew it, on a white page."""
    width, height = 640, 480
    page = browser.new_page(viewport={"width": width, "height": height})
    luma = page.evaluate("""async ([svg, w, h]) => {
        const image = new Image();
        image.src = 'data:image/svg+xml;base64,' + btoa(unescape(encodeURIComponent(svg)));
        await image.decode();
        const c = document.createElement('canvas'); c.width = w; c.height = h;
        const g = c.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, w, h);
        const side = 360; g.imageSmoothingEnabled = false;
        g.drawImage(image, (w - side) / 2, (h - side) / 2, side, side);
        const d = g.getImageData(0, 0, w, h).data; let out = '';
        for (let i = 0; i < d.length; i += 4) {
            out += String.fromCharCode(Math.round(0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]));
        }
        return btoa(out); }""", [svg, width, height])
    page.close()
    y = base64.b64decode(luma)
    chroma = bytes([128]) * (width // 2 * height // 2)
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(10):
            out.write(b"FRAME\n" + y + chroma + chroma)


def test_the_member_card_is_read_by_the_camera(playwright: Any, browser: Any, base_url: str, api: Api,
                                                shop: dict[str, Any], tmp_path: Path) -> None:
    card = api("GET", "/v1/members/me/card", ("mei",)).json()
    video = tmp_path / "card.y4m"
    card_video(browser, card["qr_svg"], video)
    camera = playwright.chromium.launch(executable_path=chromium(), args=[
        "--no-sandbox", "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={video}"])
    try:
        page = open_console(camera, base_url, "cashier")
        page.click("[data-action=scan]")
        page.wait_for_selector("#desk-title", timeout=20000)
        assert "Mei" in page.inner_text("#desk-title")
        assert page.input_value("[data-field=q] input") == card["member_code"]
        page.click("[data-tab=redemption]")
        assert page.input_value("[data-form=redemption] [name=member_code]") == card["member_code"]
        shoot(page, "counter-scan")
    finally:
        camera.close()

"""The console's partners' pages in a real browser, against `make run`'s server (fixtures of test_console.py).

The owner adds a partner and makes it a link whose QR code loads; a member signs up through the link and buys;
the report shows the click, the sign-up and the purchase, its chart is drawn and its CSV downloads; a payout over
what is available is refused next to its field and writes nothing, a valid one moves the balance; the owner sets
what links disclose. A partner signed in sees its own page only. No serious or critical accessibility violation,
no sideways scrolling at 1024 and 390 px, in English and in Chinese.
"""

from __future__ import annotations

from pathlib import Path
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

ADMIN = ("owner", "admin")
BROWSER = {"User-Agent": "Mozilla/5.0 (iPhone) Safari", "X-Forwarded-For": "203.0.113.9"}
COLOURED = """canvas => {
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
        const spread = Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]);
        if (d[i + 3] > 200 && spread > 60) n++;
    }
    return n; }"""


@pytest.fixture(scope="module")
def li(api: Api) -> dict[str, Any]:
    """A partner made through the API, with a link that brought a sale: Li's pages for the partner's own sign-in
    and for axe-core."""
    made = api("POST", "/v1/partners", ADMIN, {"partner_id": "P-li", "name": "Li's bike blog",
                                               "email": "li@example.com", "commission_bps": 750,
                                               "attribution_days": 14})
    assert made.status_code in (200, 201), made.text
    link = api("POST", "/v1/links", ADMIN, {"link_id": "L-li-1", "campaign": "autumn", "sub_id": "video-7",
                                           "partner_id": "P-li"})
    assert link.status_code in (200, 201), link.text
    # Some of everything on Li's report: a click, a sign-up through it, a purchase, the streams delivered.
    clicked = api("GET", f"/r/{link.json()['code']}?format=json", ("anyone",), headers=BROWSER)
    api.sign_up("yan", "Yan", click_id=clicked.json()["click_id"])
    bought = api("POST", "/v1/purchases", ("till", "staff"),
                 {"order_id": "P-LI-1", "member_id": "yan", "amount_minor": 16800, "currency": "CNY"})
    assert bought.status_code == 201, bought.text
    assert api("POST", "/local/tick", ("till", "staff")).status_code == 200
    return dict(link.json())


def partner_page(page: Any, base_url: str, partner_id: str) -> None:
    """The partner's page read afresh (going to the hash the page is at already would not load it again)."""
    page.goto(f"{base_url}/console/#/partner/{partner_id}")
    page.reload()
    page.wait_for_selector("[data-stat=available] .value")
    page.wait_for_selector("[data-form=report] ~ div [data-stat=clicks]")


def stat(page: Any, name: str, scope: str = "#balance-title ~ div") -> str:
    return str(page.inner_text(f"{scope} [data-stat={name}] .value")).strip()


def cells(page: Any, row: str) -> list[str]:
    return list(page.eval_on_selector(row, "tr => [...tr.children].map(c => c.textContent.trim())"))


def commission(api: Api, partner_id: str) -> dict[str, Any]:
    reply = api("GET", f"/v1/partners/{partner_id}/commission", ADMIN)
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def ledger(api: Api, partner_id: str) -> list[dict[str, Any]]:
    reply = api("GET", f"/v1/partners/{partner_id}/ledger?limit=100", ADMIN)
    assert reply.status_code == 200, reply.text
    return list(reply.json()["items"])


def test_the_owner_adds_a_partner_whose_link_brings_a_sale_then_reads_the_report_and_pays_out(
        browser: Any, base_url: str, api: Api, tmp_path: Path) -> None:
    page = open_console(browser, base_url, "owner")
    page.click("nav a[href='#/partners']")
    page.wait_for_selector("[data-form=partner]")
    page.fill("[data-form=partner] [name=partner_id]", "P-wang")
    page.fill("[data-form=partner] [name=name]", "Wang's tyre vlog")
    page.fill("[data-form=partner] [name=email]", "wang@example.com")
    page.fill("[data-form=partner] [name=commission_rate]", "12.5")
    page.fill("[data-form=partner] [name=attribution_days]", "30")
    page.click("[data-form=partner] button[type=submit]")
    row = page.wait_for_selector("[data-partner=P-wang]")
    assert "12.50 %" in row.inner_text()
    assert api("GET", "/v1/partners/P-wang", ADMIN).json()["commission_bps"] == 1250

    page.click("[data-partner=P-wang] a")
    page.wait_for_selector("[data-form=link]")
    assert page.inner_text("main h1") == "Wang's tyre vlog"
    page.fill("[data-form=link] [name=campaign]", "spring")
    page.fill("[data-form=link] [name=sub_id]", "post-42")
    page.click("[data-form=link] button[type=submit]")
    card = page.wait_for_selector("[data-link]")
    code = card.get_attribute("data-link")
    assert code and f"/r/{code}" in page.inner_text("[data-link] [data-url]")
    assert page.inner_text("[data-link] [data-disclosure]").strip()
    page.wait_for_function("() => { const i = document.querySelector('[data-link] img.qr'); "
                           "return i && i.complete && i.naturalWidth > 0; }")
    assert page.get_attribute("[data-download=png]", "href").endswith(f"/r/{code}/qr.png")

    # A visitor clicks the link, signs up through it and buys at the till; the streams are delivered.
    clicked = api("GET", f"/r/{code}?format=json", ("anyone",), headers=BROWSER)
    assert clicked.status_code == 200, clicked.text
    zed = api.sign_up("zed", "Zed", click_id=clicked.json()["click_id"])
    assert zed["partner"]["partner_id"] == "P-wang"
    bought = api("POST", "/v1/purchases", ("till", "staff"),
                 {"order_id": "P-SALE-1", "member_id": "zed", "amount_minor": 20000, "currency": "CNY"})
    assert bought.status_code == 201 and bought.json()["commission"]["amount_minor"] == 2500, bought.text
    assert api("POST", "/local/tick", ("till", "staff")).status_code == 200

    partner_page(page, base_url, "P-wang")
    report = "[data-form=report] ~ div"
    assert [stat(page, m, report) for m in ("clicks", "sign_ups", "purchases")] == ["1", "1", "1"]
    assert "25.00" in stat(page, "commission", report) and "200.00" in stat(page, "revenue", report)
    assert "25.00" in stat(page, "pending")
    page.wait_for_timeout(300)
    assert page.eval_on_selector("[data-chart=report] canvas", COLOURED) > 50
    today = page.input_value("[data-form=report] [name=to]")
    assert cells(page, f"[data-report=day] [data-key='{today}']")[1:5] == ["1", "1", "1", "1"]

    page.select_option("[data-form=report] [name=group_by]", "campaign")
    page.wait_for_selector("[data-report=campaign] [data-key=spring]")
    assert cells(page, "[data-report=campaign] [data-key=spring]")[1:5] == ["1", "1", "1", "1"]
    with page.expect_download() as downloading:
        page.click("[data-action=csv]")
    saved = tmp_path / "report.csv"
    downloading.value.save_as(saved)
    lines = saved.read_text().splitlines()
    assert lines[0].startswith("campaign,clicks,unique_clicks,sign_ups,purchases"), lines[:2]
    assert any(line.startswith("spring,1,1,1,1,20000") for line in lines[1:]), lines

    # Nothing is available yet (the hold): a payout is refused next to its field, and nothing is written.
    entries = len(ledger(api, "P-wang"))
    page.fill("[data-form=payout] [name=amount]", "10")
    page.click("[data-form=payout] button[type=submit]")
    message = page.wait_for_selector("[data-form=payout] [data-error-for=amount]:not(:empty)")
    assert message.inner_text().strip()
    assert page.get_attribute("[data-form=payout] [name=amount]", "aria-invalid") == "true"
    assert len(ledger(api, "P-wang")) == entries
    assert commission(api, "P-wang")["available"] == 0

    # After the hold the commission is available; a payout takes 15.00 of its 25.00.
    api("POST", "/local/clock", ("till", "staff"), {"advance_seconds": 8 * 86400})
    page = open_console(browser, base_url, "owner")
    partner_page(page, base_url, "P-wang")
    assert "25.00" in stat(page, "available")
    page.fill("[data-form=payout] [name=amount]", "15")
    page.click("[data-form=payout] button[type=submit]")
    page.wait_for_selector("[data-form=payout] .result")
    assert commission(api, "P-wang")["available"] == 1000
    page.wait_for_function("() => document.querySelector('[data-stat=available] .value').textContent.includes('10.00')")
    assert "15.00" in stat(page, "paid")
    page.wait_for_selector("[data-ledger] tbody tr[data-kind=payout]")
    kinds = page.eval_on_selector_all("[data-ledger] tbody tr", "rows => rows.map(r => r.children[2].textContent)")
    assert kinds[0] == "Payout" and "Commission" in kinds and "Hold ended" in kinds, kinds
    assert ledger(api, "P-wang")[0]["kind"] == "payout"
    assert page.errors == []
    shoot(page, "partner")


def test_the_owner_sets_what_links_disclose(browser: Any, base_url: str, api: Api, li: dict[str, Any]) -> None:
    page = open_console(browser, base_url, "owner")
    page.goto(f"{base_url}/console/#/link-settings")
    page.wait_for_selector("[data-form=link-settings]")
    text = "Paid partnership: I earn a commission on what you buy through this link."
    page.fill("[data-owner=partner] textarea[name='partner.en']", text)
    page.click("[data-form=link-settings] button[type=submit]")
    page.wait_for_selector("[data-form=link-settings] .result")
    saved = api("GET", "/v1/links/settings", ADMIN).json()["disclosures"]
    assert saved["partner"]["en"] == text and saved["partner"]["zh-CN"] and saved["member"]["en"]
    shoot(page, "link-settings")
    page.goto(f"{base_url}/console/#/partner/P-li")
    page.wait_for_selector("[data-link] [data-disclosure]")
    assert page.inner_text("[data-link] [data-disclosure]") == text
    assert page.errors == []


def test_a_partner_sees_its_own_page_and_no_other(browser: Any, base_url: str, api: Api,
                                                   li: dict[str, Any]) -> None:
    api("POST", "/v1/partners", ADMIN, {"partner_id": "P-other", "name": "Other", "email": "other@example.com",
                                        "commission_bps": 100, "attribution_days": 7})
    context = browser.new_context(viewport=TABLET, locale="en")
    page = context.new_page()
    page.add_init_script("localStorage.setItem('loyalty-console-lang', 'en')")
    page.goto(f"{base_url}/console/")
    page.wait_for_selector("[data-field=role] select")
    page.fill("[data-field=sub] input", "li-login")
    page.select_option("[data-field=role] select", "partner")
    page.fill("[data-field=partner_id] input", "P-li")
    page.click("form[aria-labelledby=other-title] button[type=submit]")
    page.wait_for_selector("[data-link]")
    assert page.url.endswith("#/partner/P-li")
    assert page.inner_text("main h1") == "Li's bike blog"
    assert page.eval_on_selector_all("nav a", "links => links.map(a => a.getAttribute('href'))") == ["#/partner/P-li"]
    assert page.query_selector("[data-form=payout]") is None  # payouts are the owner's
    assert page.inner_text("[data-link] [data-code]") == li["code"]

    page.goto(f"{base_url}/console/#/partner/P-other")
    page.wait_for_selector("[data-denied]")
    assert "Other" not in page.inner_text("main")
    for elsewhere in ("partners", "counter", "link-settings"):
        page.goto(f"{base_url}/console/#/{elsewhere}")
        page.wait_for_function("() => location.hash === '#/partner/P-li'")
        page.wait_for_selector("[data-link]")
    context.close()


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["tablet", "phone"])
def test_the_partners_pages_are_accessible_and_fit_without_horizontal_scrolling(
        browser: Any, base_url: str, api: Api, li: dict[str, Any], viewport: dict[str, int]) -> None:
    for lang in ("en", "zh-CN"):
        page = open_console(browser, base_url, "owner", viewport=viewport, lang=lang, bypass_csp=True)
        for name in ("partners", "partner/P-li", "link-settings"):
            page.goto(f"{base_url}/console/#/{name}")
            page.wait_for_selector("main h1")
            page.wait_for_selector("main form")
            page.wait_for_load_state("networkidle")
            if name.startswith("partner/"):
                page.wait_for_selector("[data-link] img.qr")
                page.wait_for_selector("[data-chart=report] canvas")
            accessible_and_fits(page, f"{name} ({lang}, {viewport['width']} px)")
            if viewport == TABLET and (lang == "zh-CN" or name == "partners"):
                shoot(page, f"{name.split('/')[0]}{'-zh' if lang == 'zh-CN' else ''}")
        assert page.errors == []


def test_the_cashier_has_no_partners_pages(browser: Any, base_url: str, li: dict[str, Any]) -> None:
    page = open_console(browser, base_url, "cashier")
    assert page.query_selector("nav a[href='#/partners']") is None
    for elsewhere in ("partners", "partner/P-li", "link-settings"):
        page.goto(f"{base_url}/console/#/{elsewhere}")
        page.wait_for_function("() => location.hash === '#/counter'")
        page.wait_for_selector("form[role=search]")
        assert "Li's bike blog" not in page.inner_text("main")

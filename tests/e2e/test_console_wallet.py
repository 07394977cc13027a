"""The wallet in the console, in a real browser against `make run`'s server (docs/wallet.md).

The owner sets up the wallet page: a bundle product, a coupon template and a catalogue reward with stock; the
defaults for top-up tiers and the limit are shown. At the counter a cashier tops a member up (the page shows the
service's quote of the bonus the amount earns and what the next tier would), pays part of a purchase with stored
value (the split shown is the service's), sells a bundle card and uses it, gives a coupon and takes it off a sale,
then cancels it (the coupon is active again), and redeems a catalogue reward; every step is checked against what
the API then answers. The member page shows every asset. A top-up past the limit is refused next to its field and
writes nothing. No serious or critical accessibility violation, no sideways scrolling at 1024 and 390 px, in
English and in Chinese.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browsing import PHONE, TABLET, Api, accessible_and_fits, open_console, serve, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

STAFF = ("till", "staff")
ADMIN = ("owner", "admin")


@pytest.fixture(scope="module")
def wen(api: Api) -> dict[str, Any]:
    return api.sign_up("wen", "Wen", phone="+8613900139000")


def stored(api: Api, member_id: str) -> tuple[int, int]:
    """The member's stored value: (principal, bonus)."""
    found = api.member(member_id)["balances"]["stored_value"]
    return int(found["principal_minor"]), int(found["bonus_minor"])


def wallet_page(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/console/#/wallet")
    page.wait_for_selector("[data-form=wallet_settings] [data-tier]")


def tab(page: Any, name: str, ready: str) -> None:
    page.click(f"[data-tab={name}]")
    page.wait_for_selector(ready, state="attached")  # an <option> is never "visible"


def test_the_owner_sets_up_the_wallet_and_a_cashier_uses_every_part_of_it(
        browser: Any, base_url: str, api: Api, wen: dict[str, Any]) -> None:
    owner = open_console(browser, base_url, "owner")
    assert owner.query_selector("nav a[href='#/wallet']") is not None
    wallet_page(owner, base_url)
    # The defaults: 5,000 → 5 %, 3,000 → 3 %, 2,000 → 1 %, and a limit of 5,000.00.
    assert [owner.input_value(f"[data-tier='{n}'] input[name=rate_{n}]") for n in range(3)] == ["5.00", "3.00", "1.00"]
    assert owner.input_value("[data-form=wallet_settings] [name=cap]") == "5000.00"

    for name, value in (("product_id", "WASH-6"), ("name", "6 car washes"), ("uses", "6"), ("price", "288"),
                        ("valid_days", "365")):
        owner.fill(f"[data-form=bundles] [name={name}]", value)
    owner.click("[data-form=bundles] button[type=submit]")
    owner.wait_for_selector("[data-bundles] td:has-text('WASH-6')")
    for name, value in (("template_id", "WELCOME20"), ("name", "Welcome"), ("value", "20"), ("min_spend", "100")):
        owner.fill(f"[data-form=templates] [name={name}]", value)
    owner.click("[data-form=templates] button[type=submit]")
    owner.wait_for_selector("[data-templates] td:has-text('WELCOME20')")
    for name, value in (("reward_id", "MUG"), ("name", "Mug"), ("points", "300"), ("stock", "2")):
        owner.fill(f"[data-form=rewards] [name={name}]", value)
    owner.click("[data-form=rewards] button[type=submit]")
    owner.wait_for_selector("[data-rewards] td:has-text('MUG')")
    assert api("GET", "/v1/rewards", STAFF).json()["items"][0]["stock"] == 2
    # Editing one field keeps the others: the form is filled from the row (a PUT replaces the reward whole).
    owner.click("[data-rewards] tr:has-text('MUG') [data-action=edit]")
    assert owner.input_value("[data-form=rewards] [name=stock]") == "2"
    owner.fill("[data-form=rewards] [name=name]", "Blue mug")
    owner.click("[data-form=rewards] button[type=submit]")
    owner.wait_for_selector("[data-rewards] td:has-text('Blue mug')")
    assert [(r["name"], r["stock"]) for r in api("GET", "/v1/rewards", STAFF).json()["items"]] == [("Blue mug", 2)]
    shoot(owner, "wallet")

    page = open_console(browser, base_url, "cashier")
    serve(page, "139 0013 9000")
    # Top up 3,000: 3 % is 90.00, and 2,000 more (5,000 in all) would earn 5 %.
    tab(page, "topup", "[data-form=top_up]")
    page.fill("[data-form=top_up] [name=amount]", "3000")
    page.wait_for_selector("[data-preview]:has-text('90.00')")  # the service's quote, asked as the amount is typed
    preview = page.inner_text("[data-preview]")
    assert "90.00" in preview and "3.00 %" in preview and "5.00 %" in preview and "2,000.00" in preview, preview
    page.click("[data-form=top_up] button[type=submit]")
    page.wait_for_selector("[data-form=top_up] .result")
    assert stored(api, wen["member_id"]) == (300000, 9000)
    shoot(page, "counter-top-up")

    # A top-up past the limit is refused next to its amount, and writes nothing.
    page.fill("[data-form=top_up] [name=amount]", "2000.01")
    page.wait_for_selector("[data-preview]:has-text('Over the limit')")
    page.click("[data-form=top_up] button[type=submit]")
    page.wait_for_selector("[data-form=top_up] [data-error-for=amount]:not(:empty)")
    assert stored(api, wen["member_id"]) == (300000, 9000)

    # Pay 100.00 of a purchase from stored value: bonus floor(10000 × 9000 / 309000) = 291, the rest principal.
    tab(page, "purchase", "[data-form=purchase] [name=stored_value]")
    page.fill("[data-form=purchase] [name=amount]", "150")
    page.fill("[data-form=purchase] [name=stored_value]", "100")
    page.click("[data-form=purchase] button[type=submit]")
    page.wait_for_selector("[data-form=purchase] [data-paid]")
    assert "97.09" in page.inner_text("[data-paid]") and "2.91" in page.inner_text("[data-paid]")
    assert stored(api, wen["member_id"]) == (
        300000 - 9709, 9000 - 291)

    # A bundle card sold and used once.
    tab(page, "bundle", "[data-form=bundle_sale] option[value=WASH-6]")
    page.click("[data-form=bundle_sale] button[type=submit]")
    page.wait_for_selector("[data-cards] [data-card]")
    card = api.member(wen["member_id"])["balances"]["bundles"][0]
    assert (card["product_id"], card["remaining"]) == ("WASH-6", 6)
    page.click(f"[data-card='{card['card_id']}'] [data-action=use]")
    page.wait_for_selector("text=5 left")
    assert api.member(wen["member_id"])["balances"]["bundles"][0]["remaining"] == 5
    shoot(page, "counter-bundle")

    # A coupon given, taken off a sale of 150.00 (20.00 off), then the sale cancelled: active again.
    tab(page, "coupon", "[data-form=coupon_issue] option[value=WELCOME20]")
    page.click("[data-form=coupon_issue] button[type=submit]")
    page.wait_for_selector("[data-coupon-list] [data-status=active]")
    coupon = api("GET", f"/v1/members/{wen['member_id']}/coupons", STAFF).json()["items"][0]
    page.fill("[data-form=coupon_redemption] [name=code]", coupon["code"].lower())  # as typed: case does not matter
    page.fill("[data-form=coupon_redemption] [name=subtotal]", "150")
    page.click("[data-form=coupon_redemption] button[type=submit]")
    page.wait_for_selector("[data-action=void]")
    assert "20.00" in page.inner_text("[data-action=void] >> xpath=..")
    assert api("GET", f"/v1/members/{wen['member_id']}/coupons", STAFF).json()["items"][0]["status"] == "used"
    shoot(page, "counter-coupon")
    page.click("[data-action=void]")
    page.wait_for_selector(f"[data-coupon='{coupon['code']}'][data-status=active]")
    assert api("GET", f"/v1/members/{wen['member_id']}/coupons", STAFF).json()["items"][0]["status"] == "active"

    # The catalogue at the redemption tab: the hold ends, the member's card code proves she is here.
    api("POST", "/local/clock", STAFF, {"advance_seconds": 8 * 86400})
    page = open_console(browser, base_url, "cashier")
    code = api("GET", "/v1/members/me/card", ("wen",)).json()["member_code"]
    page.goto(page.url.split("#")[0] + "#/counter")
    page.select_option("[data-field=kind] select", "member_code")
    page.fill("[data-field=q] input", code)
    page.click("form[role=search] button[type=submit]")
    page.wait_for_selector("#desk-title")
    api("POST", "/v1/adjustments", ADMIN, {"adjustment_id": "WEN-PTS", "member_id": wen["member_id"], "points": 300,
                                           "reason": "for the mug"})
    available = api.member(wen["member_id"])["balances"]["points"]["available"]
    tab(page, "redemption", "[data-form=redemption] option[value=MUG]")
    page.select_option("[data-form=redemption] [name=reward_id]", "MUG")
    page.click("[data-form=redemption] button[type=submit]")
    page.wait_for_selector("[data-form=redemption] .result")
    assert api.member(wen["member_id"])["balances"]["points"]["available"] == available - 300
    assert api("GET", "/v1/rewards", STAFF).json()["items"][0]["stock"] == 1
    assert "Blue mug" in page.inner_text("[data-form=redemption] .result")

    # The member page shows every asset.
    page.goto(page.url.split("#")[0] + f"#/member/{wen['member_id']}")
    page.wait_for_selector("[data-assets] [data-stat=principal]")
    assert "2,902.91" in page.inner_text("[data-assets] [data-stat=principal]")
    assert "5 of 6 left" in page.inner_text("[data-assets] [data-bundles]")
    page.wait_for_selector("[data-assets] [data-coupon-list]")
    shoot(page, "member-wallet")
    assert page.errors == [] and owner.errors == []


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["tablet", "phone"])
def test_the_wallet_pages_are_accessible_and_fit_without_horizontal_scrolling(
        browser: Any, base_url: str, api: Api, wen: dict[str, Any], viewport: dict[str, int]) -> None:
    for lang in ("en", "zh-CN"):
        page = open_console(browser, base_url, "owner", viewport=viewport, lang=lang, bypass_csp=True)
        wallet_page(page, base_url)
        page.wait_for_load_state("networkidle")
        accessible_and_fits(page, f"wallet ({lang}, {viewport['width']} px)")
        if lang == "zh-CN":
            shoot(page, "wallet-zh" if viewport == TABLET else "wallet-zh-phone")
        serve(page, "139 0013 9000")
        for name, ready in (("topup", "[data-form=top_up]"), ("bundle", "[data-form=bundle_sale]"),
                            ("coupon", "[data-form=coupon_issue]")):
            tab(page, name, ready)
            page.wait_for_load_state("networkidle")
            accessible_and_fits(page, f"counter {name} ({lang}, {viewport['width']} px)")
            if viewport == PHONE:
                shoot(page, f"counter-{name}-{lang}-phone")
        assert page.errors == []

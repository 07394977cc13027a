"""The earning pages of the console, in a real browser against `make run`'s server (issue 14, "Console").

The owner sets the points for actions (the well-known ones named in words) with their caps and the calendar of
multipliers (a member day every month, a date range this month); the month's grid shows each day's multiplier as
the service would pick it, the next month too; the diff names exactly the changed rules; publishing makes a new
version the API then answers with. A rule the service refuses (a range that ends before it starts) is said next to
its field and publishes nothing; a number that is not one is refused before anything is sent. Removing an action
shows one change. No serious or critical accessibility violation, no sideways scrolling at 1024 and 390 px, in
English and in Chinese.

Points expiry: the owner publishes a rule from the Earning page (refused in the page unless 0 to 120 months; the diff as
typed; the API then has it, the rest unchanged; a stale version is a 409), and turns it off. A member whose points are
dated (adjustments under a one-month rule) sees them by day on the member page, soonest first, the ledger says when each
credit expires and, once a day is over, shows the expiry entry; the dashboard counts the points expired.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.browsing import PHONE, TABLET, Api, accessible_and_fits, open_console, serve, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

STAFF = ("till", "staff")
ADMIN = ("owner", "admin")


def earning_page(page: Any, base_url: str) -> None:
    page.goto(f"{base_url}/console/#/earning")
    page.wait_for_selector("[data-form=earning] [data-calendar] table")


def last(page: Any, rows: str, name: str) -> str:
    """The selector of a field of the last row of a list (the one just added)."""
    return f"{rows} > fieldset:last-child [name$='.{name}']"


def program(api: Api) -> dict[str, Any]:
    reply = api("GET", "/v1/program", STAFF)
    assert reply.status_code == 200, reply.text
    body: dict[str, Any] = reply.json()
    return body


def test_the_owner_sets_actions_and_a_calendar_of_multipliers_and_publishes_them_after_a_diff(
        browser: Any, base_url: str, api: Api) -> None:
    before = program(api)
    assert before["actions"] == {} and before["multipliers"] == []
    page = open_console(browser, base_url, "owner")
    assert page.query_selector("nav a[href='#/earning']") is not None
    earning_page(page, base_url)

    page.click("[data-action=add-action]")
    for name, value in (("name", "review"), ("points", "20"), ("per_day", "1"), ("per_month", "5"),
                        ("lifetime", "100")):
        page.fill(last(page, "[data-actions]", name), value)
    assert page.inner_text("[data-actions] > fieldset:last-child legend") == "Review (review)"  # named in words
    page.click("[data-action=add-action]")
    for name, value in (("name", "check_in"), ("points", "2"), ("per_day", "1")):
        page.fill(last(page, "[data-actions]", name), value)

    # A member day on the 8th of every month (×3) and a range of three days this month (×2), in the programme's
    # time zone: the grid opens on the programme's month.
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    month = today.strftime("%Y-%m")
    page.click("[data-action=add-multiplier]")
    page.fill(last(page, "[data-multipliers]", "name"), "Member day")
    page.fill(last(page, "[data-multipliers]", "times"), "3")
    page.select_option(last(page, "[data-multipliers]", "kind"), "day")
    page.fill(last(page, "[data-multipliers]", "day_of_month"), "8")
    page.click("[data-action=add-multiplier]")
    page.fill(last(page, "[data-multipliers]", "name"), "Shop birthday")
    page.fill(last(page, "[data-multipliers]", "times"), "2")
    page.fill(last(page, "[data-multipliers]", "from"), f"{month}-10")
    page.fill(last(page, "[data-multipliers]", "to"), f"{month}-12")
    assert page.get_attribute("[data-calendar] [data-month]", "data-month") == month
    bps = {day: page.get_attribute(f"[data-date='{month}-{day:02d}']", "data-bps") for day in (7, 8, 9, 10, 12, 13)}
    assert bps == {7: "10000", 8: "30000", 9: "10000", 10: "20000", 12: "20000", 13: "10000"}
    assert "×3" in page.inner_text(f"[data-date='{month}-08']")
    legend = page.inner_text("[data-calendar] [data-legend]")
    assert "Member day" in legend and "Shop birthday" in legend
    page.click("[data-action=next-month]")
    following = page.get_attribute("[data-calendar] [data-month]", "data-month")
    assert following != month
    assert page.get_attribute(f"[data-date='{following}-08']", "data-bps") == "30000"
    assert page.get_attribute(f"[data-date='{following}-10']", "data-bps") == "10000"
    page.click("[data-action=prev-month]")

    # A number that is not one is refused here, before anything is sent.
    page.fill(last(page, "[data-multipliers]", "times"), "double")
    page.click("[data-form=earning] button[type=submit]")
    page.wait_for_selector("[data-multipliers] > fieldset:last-child [aria-invalid=true][name$='.times']")
    page.fill(last(page, "[data-multipliers]", "times"), "2")

    page.click("[data-action=preview]")
    page.wait_for_selector("[data-diff]")
    assert sorted(page.eval_on_selector_all("[data-diff] tbody tr", "rows => rows.map(r => r.dataset.rule)")) == [
        "action:check_in", "action:review", "multiplier:Member day", "multiplier:Shop birthday"]
    shoot(page, "earning")
    page.click("[data-form=earning] button[type=submit]")
    page.wait_for_selector("[data-form=earning] .result")
    after = program(api)
    assert after["version"] == before["version"] + 1
    assert after["actions"] == {"review": {"points": 20, "per_day": 1, "per_month": 5, "lifetime": 100},
                                "check_in": {"points": 2, "per_day": 1, "per_month": None, "lifetime": None}}
    assert after["multipliers"] == [
        {"name": "Member day", "bps": 30000, "from": None, "to": None, "day_of_month": 8},
        {"name": "Shop birthday", "bps": 20000, "from": f"{month}-10", "to": f"{month}-12", "day_of_month": None}]
    # The rest of the programme is as it was.
    kept = ("points_per_currency_unit", "referral_rates_bps", "hold_days", "currency", "timezone")
    assert {k: after[k] for k in kept} == {k: before[k] for k in kept}

    # The page reads the new version: a range that ends before it starts is the service's to refuse, next to the
    # row's end date, and nothing is published.
    page.wait_for_selector("[data-form=earning] .result", state="detached")
    page.fill("[data-multipliers] > fieldset:nth-child(2) [name$='.to']", f"{month}-09")
    page.click("[data-form=earning] button[type=submit]")
    page.wait_for_selector("[data-multipliers] > fieldset:nth-child(2) [data-error-for$='.to']:not(:empty)")
    assert page.get_attribute("[data-multipliers] > fieldset:nth-child(2) [name$='.to']", "aria-invalid") == "true"
    assert program(api)["version"] == after["version"]

    # Removing an action is one change, and the programme keeps the rest.
    page.reload()
    page.wait_for_selector("[data-form=earning] [data-calendar] table")
    page.click("[data-actions] fieldset:has(legend:text-is('Check-in (check_in)')) [data-action=remove-action]")
    page.click("[data-action=preview]")
    page.wait_for_selector("[data-diff]")
    changed = page.eval_on_selector_all("[data-diff] tbody tr", "rows => rows.map(r => r.dataset.rule)")
    assert changed == ["action:check_in"]
    page.click("[data-form=earning] button[type=submit]")
    page.wait_for_selector("[data-form=earning] .result")
    final = program(api)
    assert final["version"] == after["version"] + 1
    assert list(final["actions"]) == ["review"] and final["multipliers"] == after["multipliers"]
    assert page.errors == []


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["tablet", "phone"])
def test_the_earning_pages_are_accessible_and_fit_without_horizontal_scrolling(
        browser: Any, base_url: str, api: Api, viewport: dict[str, int]) -> None:
    for lang in ("en", "zh-CN"):
        page = open_console(browser, base_url, "owner", viewport=viewport, lang=lang, bypass_csp=True)
        earning_page(page, base_url)
        page.wait_for_load_state("networkidle")
        accessible_and_fits(page, f"earning ({lang}, {viewport['width']} px)")
        if lang == "zh-CN":
            shoot(page, "earning-zh" if viewport == TABLET else "earning-zh-phone")
        page.click("[data-link=simulation]")
        page.wait_for_selector("[data-form=simulation]")
        page.click("[data-form=simulation] summary")  # the rules as JSON, opened
        accessible_and_fits(page, f"simulation ({lang}, {viewport['width']} px)")
        assert page.errors == []


# --- the till's Action tab, tiers, surprises ------------------------------------------------------------------------

def needs(api: Api, method: str, path: str, who: tuple[str, ...] = ADMIN, body: Any = None) -> None:
    """The route the page relies on is served (a missing one fails the test: it is never skipped)."""
    reply = api(method, path, who, body)
    assert not (reply.status_code == 404 and reply.json().get("detail") == "No such route."), f"{method} {path}"


def test_the_cashier_credits_a_review_at_the_counter_once_a_day(browser: Any, base_url: str, api: Api) -> None:
    needs(api, "GET", "/v1/members/nobody/actions", STAFF)
    ming = api.sign_up("ming", "Ming", phone="+8613700137000")
    reply = api("PUT", "/v1/program", ADMIN, {**{k: program(api)[k] for k in (
        "points_per_currency_unit", "referral_rates_bps", "hold_days", "currency")},
        "actions": {"review": {"points": 20, "per_day": 1}, "share": {"points": 5}}})
    assert reply.status_code == 200, reply.text
    page = open_console(browser, base_url, "cashier", bypass_csp=True)
    serve(page, "137 0013 7000")
    page.click("[data-tab=action]")
    page.wait_for_selector("[data-form=action] option[value=review]", state="attached")
    page.select_option("[data-form=action] [name=action]", "review")
    page.fill("[data-form=action] [name=ref]", "POS-REVIEWED-1")
    page.click("[data-form=action] button[type=submit]")
    page.wait_for_selector("[data-form=action] .result")
    assert "20" in page.inner_text("[data-form=action] .result")
    assert api.member(ming["member_id"])["balances"]["points"]["available"] == 20
    entries = api.ledger(ming["member_id"])
    assert [(e["kind"], e["amount"]) for e in entries] == [("action", 20)]
    # A second review the same local day is past its cap: said at the select, and nothing is written.
    page.click("[data-form=action] button[type=submit]")
    page.wait_for_selector("[data-form=action] [data-error-for=action]:not(:empty)")
    assert api.member(ming["member_id"])["balances"]["points"]["available"] == 20
    assert len(api.ledger(ming["member_id"])) == 1
    shoot(page, "counter-action")
    accessible_and_fits(page, "counter action")
    for lang, viewport in (("zh-CN", PHONE),):
        phone = open_console(browser, base_url, "cashier", viewport=viewport, lang=lang, bypass_csp=True)
        serve(phone, "137 0013 7000")
        phone.click("[data-tab=action]")
        phone.wait_for_selector("[data-action-counts] li")
        accessible_and_fits(phone, f"counter action ({lang}, phone)")
        shoot(phone, "counter-action-zh-phone")
        assert phone.errors == []
    assert page.errors == []


def test_the_owner_sets_tiers_and_the_member_page_shows_the_progress_to_the_next(
        browser: Any, base_url: str, api: Api) -> None:
    needs(api, "GET", "/v1/tiers")
    lan = api.sign_up("lan", "Lan", phone="+8613600136000")
    page = open_console(browser, base_url, "owner", bypass_csp=True)
    earning_page(page, base_url)
    page.wait_for_selector("[data-form=tiers]")
    for tier, spend, discount, times in (("silver", "1000", "5", "1"), ("gold", "5000", "15", "1.2")):
        page.click("[data-action=add-tier]")
        for name, value in (("tier", tier), ("min_spend", spend), ("discount", discount), ("times", times)):
            page.fill(last(page, "[data-tiers]", name), value)
    page.click("[data-action=add-status]")
    for name, value in (("status", "shareholder"), ("min", "5"), ("times", "1.5")):
        page.fill(last(page, "[data-statuses]", name), value)
    page.click("[data-form=tiers] button[type=submit]")
    page.wait_for_selector("[data-form=tiers] .result")
    saved = api("GET", "/v1/tiers", ADMIN).json()
    assert saved["tiers"] == [
        {"tier": "silver", "min_spend_12m_minor": 100000, "discount_bps": 500, "points_multiplier_bps": 10000},
        {"tier": "gold", "min_spend_12m_minor": 500000, "discount_bps": 1500, "points_multiplier_bps": 12000}]
    assert saved["statuses"] == [
        {"status": "shareholder", "min_qualified_referrals": 5, "points_multiplier_bps": 15000}]

    # 2,300.00 of purchases: silver, and 2,700.00 more to gold.
    reply = api("POST", "/v1/purchases", STAFF, {"order_id": "LAN-1", "member_id": lan["member_id"],
                                                 "amount_minor": 230000, "currency": "CNY"})
    assert reply.status_code == 201, reply.text
    tier = api.member(lan["member_id"])["tier"]
    assert (tier["tier"], tier["next"]) == ("silver", {"tier": "gold", "spend_needed_minor": 270000})
    page.goto(f"{base_url}/console/#/member/{lan['member_id']}")
    page.wait_for_selector("[data-standing] progress")
    assert page.inner_text("[data-standing] [data-stat=tier] .value") == "silver"
    assert page.get_attribute("[data-standing] progress", "value") == "230000"
    assert page.get_attribute("[data-standing] progress", "max") == "500000"
    assert "2,700.00" in page.inner_text("[data-standing] [data-progress=gold]")
    shoot(page, "member-tier")
    # At the till, the tier's discount (the till applies it to the price it records).
    serve(page, "136 0013 6000")
    page.wait_for_selector("[data-tier]:not(:empty)")
    assert page.inner_text("[data-tier]") == "Tier silver: 5.00 % off the price."
    page.goto(f"{base_url}/console/#/member/{lan['member_id']}")
    page.wait_for_selector("[data-standing] progress")
    accessible_and_fits(page, "member tier")
    phone = open_console(browser, base_url, "owner", viewport=PHONE, lang="zh-CN", bypass_csp=True)
    phone.goto(f"{base_url}/console/#/member/{lan['member_id']}")
    phone.wait_for_selector("[data-standing] progress")
    accessible_and_fits(phone, "member tier (zh-CN, phone)")
    shoot(phone, "member-tier-zh-phone")
    assert page.errors == [] and phone.errors == []


def test_the_owner_turns_surprises_on_and_a_revealed_day_checks_in_the_browser(
        browser: Any, base_url: str, api: Api) -> None:
    needs(api, "GET", "/v1/program/surprise/commitments")
    yu = api.sign_up("yu", "Yu", phone="+8613500135000")
    page = open_console(browser, base_url, "owner")
    earning_page(page, base_url)
    for name, value in (("chance", "100"), ("min_points", "5"), ("max_points", "9"), ("daily_budget", "1000")):
        page.fill(f"[data-form=earning] [name='surprise.{name}']", value)
    page.click("[data-action=preview]")
    page.wait_for_selector("[data-diff] [data-rule=surprise]")
    page.click("[data-form=earning] button[type=submit]")
    page.wait_for_selector("[data-form=earning] .result")
    assert program(api)["surprise"] == {"chance_bps": 10000, "min_points": 5, "max_points": 9, "daily_budget": 1000}
    page.wait_for_selector("[data-commitment-list]")
    reply = api("POST", "/v1/purchases", STAFF, {"order_id": "YU-1", "member_id": yu["member_id"],
                                                 "amount_minor": 1000, "currency": "CNY"})
    assert reply.status_code == 201, reply.text
    drawn = reply.json()["surprise"]["points"]
    clock = datetime.fromisoformat(api("GET", "/local/clock", STAFF).json()["now"].replace("Z", "+00:00"))
    day = clock.astimezone(ZoneInfo(program(api)["timezone"])).date().isoformat()  # the purchase's local date
    api("POST", "/local/clock", STAFF, {"advance_seconds": 2 * 86400})
    page = open_console(browser, base_url, "owner")
    earning_page(page, base_url)
    page.click(f"[data-commitment-list] [data-day='{day}'] [data-action=draws]")
    page.wait_for_selector("[data-draws] [data-order=YU-1]")
    assert str(drawn) in page.inner_text("[data-draws] [data-order=YU-1]")
    check = page.inner_text("[data-check]")
    assert "1 of 1" in check and "matches" in check, check
    shoot(page, "earning-surprise")
    assert page.errors == []


def test_the_owner_rehearses_a_change_and_sees_current_against_proposed(
        browser: Any, base_url: str, api: Api) -> None:
    needs(api, "GET", "/v1/program/simulations/none")
    api.sign_up("rui", "Rui")
    bought = api("POST", "/v1/purchases", STAFF, {"order_id": "RUI-1", "member_id": "rui", "amount_minor": 50000,
                                                  "currency": "CNY"})
    assert bought.status_code == 201, bought.text
    page = open_console(browser, base_url, "owner", bypass_csp=True)
    page.goto(f"{base_url}/console/#/simulation")
    page.wait_for_selector("[data-form=simulation]")
    clock = datetime.fromisoformat(api("GET", "/local/clock", STAFF).json()["now"].replace("Z", "+00:00"))
    now = clock.astimezone(ZoneInfo(program(api)["timezone"])).date().isoformat()  # the programme's local date
    page.fill("[data-form=simulation] [name=from]", "2026-01-01")
    page.fill("[data-form=simulation] [name=to]", now)
    page.fill("[data-form=simulation] [name=points_per_currency_unit]", "2")  # written into the rules sent
    assert '"points_per_currency_unit": 2' in page.input_value("[data-form=simulation] [name=program]")
    page.click("[data-form=simulation] button[type=submit]")
    page.wait_for_selector("[data-chart=by_level] canvas", timeout=60_000)
    current = int(page.inner_text("[data-stat=current] .value").replace(",", ""))
    doubled = int(page.inner_text("[data-stat=proposed] .value").replace(",", ""))
    assert current > 0 and doubled >= current
    assert page.get_attribute("[data-stat=purchases]", "data-stat") == "purchases"
    assert int(page.inner_text("[data-stat=purchases] .value").replace(",", "")) >= 1
    shoot(page, "simulation")
    accessible_and_fits(page, "simulation result")
    assert page.errors == []


def test_the_member_page_names_the_multiplier_an_entry_was_earned_under(
        browser: Any, base_url: str, api: Api) -> None:
    before = program(api)
    clock = datetime.fromisoformat(api("GET", "/local/clock", STAFF).json()["now"].replace("Z", "+00:00"))
    today = clock.astimezone(ZoneInfo(before["timezone"])).date().isoformat()
    kept = ("points_per_currency_unit", "referral_rates_bps", "hold_days", "currency")
    holiday = {"name": "Holiday", "from": today, "to": today, "bps": 20000}
    reply = api("PUT", "/v1/program", ADMIN, {**{k: before[k] for k in kept}, "multipliers": [holiday]})
    assert reply.status_code == 200, reply.text
    hui = api.sign_up("hui", "Hui")
    bought = api("POST", "/v1/purchases", STAFF, {"order_id": "HUI-1", "member_id": hui["member_id"],
                                                  "amount_minor": 10000, "currency": "CNY"})
    assert bought.status_code == 201 and bought.json()["multiplier"] == {"name": "Holiday", "bps": 20000}
    page = open_console(browser, base_url, "cashier")
    page.goto(f"{base_url}/console/#/member/{hui['member_id']}")
    page.wait_for_selector("[data-ledger] tr[data-seq='1']")
    row = page.inner_text("[data-ledger] tr[data-seq='1']")
    assert "HUI-1 · Holiday ×2" in row and "200" in row, row
    assert page.errors == []


# --- points expiry ------------------------------------------------------------------------------------------------

CONTRACT = ("points_per_currency_unit", "referral_rates_bps", "hold_days", "currency")
MONTHS = "[data-form=expiry] [name='expiry.months']"


def server_now(api: Api) -> datetime:
    return datetime.fromisoformat(api("GET", "/local/clock", STAFF).json()["now"].replace("Z", "+00:00"))


def medium(day: date) -> str:
    """A date as the console writes it in English (Intl's medium date style): Mar 31, 2027."""
    return f"{day:%b} {day.day}, {day.year}"


def test_the_owner_publishes_points_expiry_from_the_earning_page_and_the_api_reports_it(
        browser: Any, base_url: str, api: Api) -> None:
    before = program(api)
    assert "expiry" not in before
    page = open_console(browser, base_url, "owner", bypass_csp=True)
    earning_page(page, base_url)
    page.wait_for_selector("[data-form=expiry] [data-expiry-current='0']")
    assert page.inner_text("[data-form=expiry] [data-expiry-current]") == "Points never expire."
    explained = page.inner_text("[data-form=expiry] [data-explain]")
    assert "oldest points first" in explained and "30 days before" in explained and "Asia/Shanghai" in explained

    # What is not a number of months from 0 to 120 is refused here, and nothing is sent.
    for bad in ("twelve", "121", "1.5"):
        page.fill(MONTHS, bad)
        page.click("[data-form=expiry] button[type=submit]")
        page.wait_for_selector(f"{MONTHS}[aria-invalid=true]")
        assert page.inner_text("[data-form=expiry] [data-error-for='expiry.months']") == \
            "A whole number of months from 0 to 120."
    assert program(api)["version"] == before["version"]

    # The change is said as it is typed, then published with the programme's other keys as they were.
    page.fill(MONTHS, "12")
    cells = page.eval_on_selector_all("[data-form=expiry] [data-diff] tr[data-rule=expiry] td",
                                      "cells => cells.map(c => c.textContent)")
    assert cells[1:] == ["never", "12 months after they become available (for points available from a minute after "
                                  "publishing)"], cells
    page.click("[data-form=expiry] button[type=submit]")
    page.wait_for_selector("[data-form=expiry] .result")
    after = program(api)
    assert after["version"] == before["version"] + 1
    assert after["expiry"]["months"] == 12
    since = datetime.fromisoformat(after["expiry"]["since"].replace("Z", "+00:00"))
    assert {k: v for k, v in after.items() if k not in ("version", "expiry")} == \
        {k: v for k, v in before.items() if k != "version"}

    # The page reads the new version: the rule, and since when it counts in the programme's time zone.
    page.wait_for_selector("[data-form=expiry] [data-expiry-current='12']")
    assert page.get_attribute("[data-form=expiry] [data-expiry-current]", "data-since") == after["expiry"]["since"]
    rule = page.inner_text("[data-form=expiry] [data-expiry-current]")
    local = since.astimezone(ZoneInfo(after["timezone"]))
    assert "12 months after they become available" in rule and f"{medium(local.date())}, " in rule, rule
    assert f"({after['timezone']})" in rule, rule
    assert page.input_value(MONTHS) == "12"
    # The same months again publish nothing.
    page.click("[data-form=expiry] button[type=submit]")
    page.wait_for_selector(f"{MONTHS}[aria-invalid=true]")
    assert program(api)["version"] == after["version"]
    assert page.query_selector("[data-form=expiry] [data-diff]") is None

    # Someone else publishes in between: the page's version is not the current one, the API refuses (409) and the
    # rule stays as it was.
    reply = api("PUT", "/v1/program", ADMIN, {k: after[k] for k in CONTRACT})
    assert reply.status_code == 200, reply.text
    page.fill(MONTHS, "6")
    page.wait_for_selector("[data-form=expiry] [data-diff] tr[data-rule=expiry]")
    shoot(page, "earning-expiry", "[data-form=expiry]")
    page.click("[data-form=expiry] button[type=submit]")
    page.wait_for_selector("[data-form=expiry] .form-error:not(:empty)")
    assert program(api)["expiry"] == after["expiry"]

    # Rehearsing a change still works with a rule in the programme: its proposal names the months only.
    page.goto(f"{base_url}/console/#/simulation")
    page.wait_for_selector("[data-form=simulation]")
    assert json.loads(page.input_value("[data-form=simulation] [name=program]"))["expiry"] == {"months": 12}
    page.fill("[data-form=simulation] [name=from]", "2026-01-01")
    today = server_now(api).astimezone(ZoneInfo(after["timezone"])).date()
    page.fill("[data-form=simulation] [name=to]", today.isoformat())
    page.click("[data-form=simulation] button[type=submit]")
    page.wait_for_selector("[data-result] [data-stat=purchases]", timeout=60_000)

    for lang in ("en", "zh-CN"):
        for viewport in (TABLET, PHONE):
            seen = open_console(browser, base_url, "owner", viewport=viewport, lang=lang, bypass_csp=True)
            earning_page(seen, base_url)
            seen.wait_for_selector("[data-form=expiry] [data-expiry-current='12']")
            seen.fill(MONTHS, "0")  # the diff shown too
            seen.wait_for_selector("[data-form=expiry] [data-diff] tr[data-rule=expiry]")
            seen.wait_for_load_state("networkidle")
            accessible_and_fits(seen, f"earning, expiry ({lang}, {viewport['width']} px)")
            if lang == "zh-CN" and viewport == PHONE:
                shoot(seen, "earning-expiry-zh-phone", "[data-form=expiry]")
            assert seen.errors == []
            seen.context.close()

    # Turning expiry off: 0 months, and the programme has no rule any more.
    page = open_console(browser, base_url, "owner")
    earning_page(page, base_url)
    page.fill(MONTHS, "0")
    cells = page.eval_on_selector_all("[data-form=expiry] [data-diff] tr[data-rule=expiry] td",
                                      "cells => cells.map(c => c.textContent)")
    assert cells[1:] == ["12 months after they become available", "never (points already dated keep their dates)"]
    page.click("[data-form=expiry] button[type=submit]")
    page.wait_for_selector("[data-form=expiry] .result")
    assert "expiry" not in program(api)
    page.wait_for_selector("[data-form=expiry] [data-expiry-current='0']")
    assert page.errors == []


def test_the_member_page_shows_the_points_that_will_expire_and_the_ledger_their_dates(
        browser: Any, base_url: str, api: Api) -> None:
    rules = program(api)
    reply = api("PUT", "/v1/program", ADMIN, {**{k: rules[k] for k in CONTRACT}, "expiry": {"months": 1}})
    assert reply.status_code == 200, reply.text
    zone = ZoneInfo(rules["timezone"])
    api("POST", "/local/clock", STAFF, {"advance_seconds": 120})  # past the minute after which the rule counts
    fang = api.sign_up("fang", "Fang")["member_id"]

    def adjust(name: str, points: int) -> None:
        done = api("POST", "/v1/adjustments", ADMIN, {"adjustment_id": f"FANG-{name}", "member_id": fang,
                                                       "points": points, "reason": "Expiry in the console"})
        assert done.status_code == 201, done.text

    # Four credits three days apart, each dated a month after it became available; a debit of 5 takes the oldest.
    for n, points in enumerate((20, 30, 40, 50)):
        if n:
            api("POST", "/local/clock", STAFF, {"advance_seconds": 3 * 86400})
        adjust(str(n), points)
    adjust("spent", -5)
    expiring = api.member(fang)["balances"]["points"]["expiring"]
    assert [e["points"] for e in expiring] == [15, 30, 40, 50]
    days = [date.fromisoformat(e["on"]) for e in expiring]
    assert days == sorted(set(days))

    page = open_console(browser, base_url, "cashier")
    page.goto(f"{base_url}/console/#/member/{fang}")
    page.wait_for_selector("[data-expiring] li")
    shown = page.eval_on_selector_all("[data-expiring] li", "items => items.map(i => i.textContent)")
    assert shown == [f"{points} points expire on {medium(day)}"
                     for points, day in zip((15, 30, 40), days[:3], strict=True)]
    assert page.inner_text("[data-expiring] [data-later]") == f"… and 50 more after {medium(days[2])}"
    assert page.inner_text("[data-expiring] [data-total]").startswith(f"135 points in all will expire, the last on "
                                                                      f"{medium(days[3])}.")
    # Each credit's row says when its points expire: its lot's instant ends the local day the member read names.
    entries = api.ledger(fang)
    first = next(e for e in entries if e["source"]["id"] == "FANG-0")
    [[at, amount]] = first["expires"]
    ends = datetime.fromisoformat(at.replace("Z", "+00:00"))
    assert amount == 20 and (ends - timedelta(microseconds=1)).astimezone(zone).date() == days[0]
    assert f"expires on {medium(days[0])}" in page.inner_text(f"[data-ledger] tr[data-seq='{first['seq']}']")
    page.wait_for_selector("[data-chain=verified]")  # the dated entries hash as the service hashed them

    # Once the first day is over its points are gone from every read, and the next write records them as an
    # expiry entry naming the lot it ends.
    api("POST", "/local/clock", STAFF, {"advance_seconds": int((ends - server_now(api)).total_seconds()) + 3600})
    assert [e["points"] for e in api.member(fang)["balances"]["points"]["expiring"]] == [30, 40, 50]
    adjust("later", 1)
    expired = next(e for e in api.ledger(fang) if e["kind"] == "expiry")
    assert expired["amount"] == -15 and expired["expires"] == [[at, 15]]
    page = open_console(browser, base_url, "cashier", bypass_csp=True)
    page.goto(f"{base_url}/console/#/member/{fang}")
    page.wait_for_selector(f"[data-ledger] tr[data-seq='{expired['seq']}']")
    row = page.eval_on_selector_all(f"[data-ledger] tr[data-seq='{expired['seq']}'] td",
                                    "cells => cells.map(c => c.textContent)")
    assert row[2:] == ["Expiry", f"due {medium(days[0])}", "", "available", "-15"], row
    assert page.inner_text("[data-expiring] li") == f"30 points expire on {medium(days[1])}"
    page.wait_for_selector("[data-chain=verified]")
    shoot(page, "member-expiry")
    accessible_and_fits(page, "member, expiring points")
    for lang, viewport in (("en", PHONE), ("zh-CN", TABLET), ("zh-CN", PHONE)):
        seen = open_console(browser, base_url, "owner", viewport=viewport, lang=lang, bypass_csp=True)
        seen.goto(f"{base_url}/console/#/member/{fang}")
        seen.wait_for_selector("[data-expiring] li")
        seen.wait_for_selector("[data-chain=verified]")
        if lang == "zh-CN":
            day = days[1]
            assert seen.inner_text("[data-expiring] li") == f"30 积分将于 {day.year}年{day.month}月{day.day}日 过期"
            assert seen.inner_text(f"[data-ledger] tr[data-seq='{expired['seq']}'] td:nth-child(3)") == "过期"
        accessible_and_fits(seen, f"member, expiring points ({lang}, {viewport['width']} px)")
        if lang == "zh-CN" and viewport == PHONE:
            shoot(seen, "member-expiry-zh-phone")
        assert seen.errors == []
        seen.context.close()

    # The dashboard counts what the period's expiry entries took beside what was issued and redeemed.
    page.goto(f"{base_url}/console/#/dashboard")
    page.wait_for_selector("[data-metric=expired] .value")
    assert page.inner_text("[data-metric=expired] .value") == "15"
    assert api("GET", "/v1/metrics", STAFF).json()["points"]["expired"] == 15
    accessible_and_fits(page, "dashboard, points expired")
    assert page.errors == []

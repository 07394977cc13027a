"""What partners earn, over HTTP (API-additions, "Partners and referral links"): a click on a partner's link, the
sign-up it brings bound to the partner once, a commission on purchases within the attribution window (queued, held,
posted to the partner's own chain), refunds taking it back pro rata, payouts from available only, the report and
its CSV, the dashboard's commission owed. Every refusal writes nothing."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.integration.partners.test_partners import ADMIN, as_partner, partner, partner_link, raw, refused
from tests.support import Api, dump_tables

DAY = 86_400
BROWSER = {"user-agent": "Mozilla/5.0 (iPhone) Safari", "x-forwarded-for": "203.0.113.9"}


def click(api: Api, code: str) -> str:
    """Open the landing page as the app would (JSON): the signed click id."""
    status, _, body = raw(api, f"/r/{code}?format=json", BROWSER)
    assert status == 200
    import json

    return str(json.loads(body)["click_id"])


def commission(api: Api, partner_id: str = "P-wang", **caller: Any) -> dict[str, Any]:
    reply = api.call("GET", f"/v1/partners/{partner_id}/commission", **(caller or ADMIN))
    assert reply.status == 200, reply.body
    return dict(reply.body)


def partner_entries(api: Api, partner_id: str = "P-wang") -> list[tuple[str, int, str]]:
    reply = api.call("GET", f"/v1/partners/{partner_id}/ledger", **ADMIN)
    assert reply.status == 200, reply.body
    return [(e["kind"], e["amount"], e["bucket"]) for e in reversed(reply.body["items"])]


def test_a_partners_click_brings_a_member_whose_purchases_earn_commission_until_refunded_and_paid(api: Api) -> None:
    code = partner_link(api)["code"]
    clicked = click(api, code)
    dan = api.sign_up("dan", click_id=clicked)  # the app carries the click id; no code typed
    assert dan["referrer_id"] is None
    assert dan["partner"] == {"partner_id": "P-wang", "bound_at": "2026-11-23T09:30:00Z",
                              "attribution_ends_at": "2026-12-23T09:30:00Z"}

    bought = api.purchase("O-1", "dan", 12900)
    assert bought.status == 201 and [c["member_id"] for c in bought.body["credits"]] == ["dan"]
    assert bought.body["commission"] == {"partner_id": "P-wang", "amount_minor": 645, "bucket": "pending",
                                         "available_at": "2026-11-30T09:00:00Z", "status": "queued"}
    assert commission(api) == {"available": 0, "pending": 645, "lifetime_earned": 645, "queued": 0}
    assert partner_entries(api) == [("commission", 645, "pending")]

    back = api.refund("O-1", "R-1", 4300)
    assert back.body["commission_reversal"] == {"partner_id": "P-wang", "amount_minor": 215, "status": "queued"}
    assert [r["member_id"] for r in back.body["reversals"]] == ["dan"]
    assert commission(api) == {"available": 0, "pending": 430, "lifetime_earned": 430, "queued": 0}

    before = dump_tables()
    refused(api.call("POST", "/v1/partners/P-wang/payouts", {"payout_id": "PO-1", "amount_minor": 1}, **ADMIN),
            409, "insufficient-commission")  # all of it still on hold
    assert dump_tables() == before
    api.move_clock(7 * DAY)
    assert commission(api)["available"] == 430
    refused(api.call("POST", "/v1/partners/P-wang/payouts", {"payout_id": "PO-1", "amount_minor": 431}, **ADMIN),
            409, "insufficient-commission")
    paid = api.call("POST", "/v1/partners/P-wang/payouts", {"payout_id": "PO-1", "amount_minor": 430}, **ADMIN)
    assert (paid.status, paid.body) == (201, {"payout_id": "PO-1", "partner_id": "P-wang", "amount_minor": 430,
                                              "available_minor": 0})
    again = api.call("POST", "/v1/partners/P-wang/payouts", {"payout_id": "PO-1", "amount_minor": 430}, **ADMIN)
    assert (again.status, again.body) == (200, paid.body)
    refused(api.call("POST", "/v1/partners/P-wang/payouts", {"payout_id": "PO-1", "amount_minor": 400}, **ADMIN),
            409, "idempotency-mismatch")
    assert partner_entries(api) == [("commission", 645, "pending"), ("refund", -215, "pending"),
                                    ("release", -430, "pending"), ("release", 430, "available"),
                                    ("payout", -430, "available")]
    assert commission(api) == {"available": 0, "pending": 0, "lifetime_earned": 430, "queued": 0}
    verified = api.call("GET", "/v1/partners/P-wang/ledger/verify", headers=as_partner(api, "P-wang")).body
    assert verified["member_id"] == "partner#P-wang" and verified["entries"] == 5
    assert verified["chain_valid"] and verified["balances_match"] and verified["problems"] == []
    figures = api.call("GET", "/v1/metrics?from=2026-11-23&to=2026-11-30", as_="pos", groups=("staff",)).body
    assert figures["commission"] == {"outstanding_minor": 0}

    api.move_clock(30 * DAY)  # past the 30 days of attribution: no commission any more
    late = api.call("POST", "/v1/purchases", {"order_id": "O-2", "member_id": "dan", "amount_minor": 10000,
                                              "currency": "CNY"}, as_="pos", groups=("staff",))
    assert late.status == 201 and late.body["commission"] is None


def test_the_report_counts_clicks_sign_ups_sales_and_commission_by_day_campaign_and_sub_id(api: Api) -> None:
    code = partner_link(api)["code"]
    wang = as_partner(api, "P-wang")
    other = api.call("POST", "/v1/links", {"link_id": "L-2", "campaign": "autumn"}, headers=wang).body["code"]
    click(api, code)
    click(api, code)  # the same visitor: a click, not a unique one
    api.sign_up("dan", code)  # the code typed at sign-up binds too
    api.sign_up("erin", click_id=click(api, other))
    api.purchase("O-1", "dan", 12900)
    api.purchase("O-2", "erin", 20000)
    api.refund("O-2", "R-1", 20000)
    reply = api.call("GET", "/v1/partners/P-wang/report?from=2026-11-22&to=2026-11-23&group_by=day", headers=wang)
    assert reply.status == 200, reply.body
    assert [r["key"] for r in reply.body["rows"]] == ["2026-11-22", "2026-11-23"]
    assert reply.body["rows"][1] == {
        "key": "2026-11-23", "clicks": 3, "unique_clicks": 2, "sign_ups": 2, "purchases": 2, "revenue_minor": 12900,
        "commission_pending_minor": 645, "commission_available_minor": 0, "commission_reversed_minor": 1000}
    assert reply.body["time_zone"] == "Asia/Shanghai" and reply.body["total"]["clicks"] == 3
    by_campaign = api.call("GET", "/v1/partners/P-wang/report?from=2026-11-23&to=2026-11-23&group_by=campaign",
                           **ADMIN).body
    assert [(r["key"], r["clicks"], r["sign_ups"], r["revenue_minor"]) for r in by_campaign["rows"]] == [
        ("autumn", 1, 1, 0), ("spring", 2, 1, 12900)]
    status, headers, body = api.gateway.invoke(
        "GET", "/v1/partners/P-wang/report?from=2026-11-23&to=2026-11-23&group_by=sub_id&format=csv",
        {"host": "localhost", **{k.lower(): v for k, v in wang.items()}}, b"")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert "attachment" in headers.get("content-disposition", "")
    lines = list(csv.reader(io.StringIO(body.decode())))
    assert lines[0][:3] == ["sub_id", "clicks", "unique_clicks"] and lines[1][:2] == ["", "1"]
    assert lines[2][:6] == ["post-42", "2", "1", "1", "1", "12900"]


def test_a_partner_sees_only_its_own_commission_ledger_and_report(api: Api) -> None:
    partner_link(api)
    partner(api, partner_id="P-li", email="li@example.com")
    li = as_partner(api, "P-li", sub="li-login")
    for path in ("/v1/partners/P-wang/commission", "/v1/partners/P-wang/ledger", "/v1/partners/P-wang/ledger/verify",
                 "/v1/partners/P-wang/report"):
        refused(api.call("GET", path, headers=li), 403, "forbidden")
        refused(api.call("GET", path, as_="dan"), 403, "forbidden")
        assert api.call("GET", path, headers=as_partner(api, "P-wang")).status == 200
        refused(api.call("GET", path.replace("P-wang", "P-nobody"), **ADMIN), 404, "not-found")
    refused(api.call("POST", "/v1/partners/P-wang/payouts", {"payout_id": "X", "amount_minor": 1},
                     headers=as_partner(api, "P-wang")), 403, "forbidden")  # payouts are the admin's


def test_forged_click_ids_and_mistyped_link_codes_are_refused_and_write_nothing(api: Api) -> None:
    code = partner_link(api)["code"]
    clicked = click(api, code)
    before = dump_tables()
    forged = clicked[:-2] + ("AA" if not clicked.endswith("AA") else "BB")
    reply = api.call("POST", "/v1/members", {"email": "dan@example.com", "display_name": "Dan", "click_id": forged},
                     as_="dan")
    refused(reply, 422, "invalid-click-id")
    typo = code[:3] + ("2" if code[3] != "2" else "3") + code[4:]
    reply = api.call("POST", "/v1/members", {"email": "dan@example.com", "display_name": "Dan",
                                             "referral_code": typo}, as_="dan")
    refused(reply, 422, "unknown-referral-code")
    assert dump_tables() == before


def test_a_members_own_link_makes_them_the_referrer(api: Api) -> None:
    carol = api.sign_up("carol")
    made = api.call("POST", "/v1/links", {"link_id": "mine"}, as_="carol").body
    dan = api.sign_up("dan", click_id=click(api, made["code"]))
    assert dan["referrer_id"] == carol["member_id"] and dan.get("partner") is None
    erin = api.sign_up("erin", made["code"].lower())  # typed, in any case
    assert erin["referrer_id"] == "carol"

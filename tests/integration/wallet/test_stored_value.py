"""Stored value (储值卡) over HTTP: the settings, top-ups at every tier boundary and against the cap, paying with it
(bonus in proportion, rounded down), refunds giving back exactly the parts, withdrawals, exactly-once, and every
refusal writing nothing (docs/wallet.md)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import Api, CallAs, Reply, dump_tables

STAFF: CallAs = {"as_": "pos", "groups": ("staff",)}
ADMIN: CallAs = {"as_": "boss", "groups": ("admin",)}
DEFAULTS = {"top_up_bonus": [{"min_minor": 500000, "bonus_bps": 500}, {"min_minor": 300000, "bonus_bps": 300},
                             {"min_minor": 200000, "bonus_bps": 100}], "max_principal_minor": 500000}


def refused(reply: Reply, status: int, slug: str) -> None:
    assert (reply.status, reply.slug) == (status, slug), reply.body
    assert reply.headers["content-type"] == "application/problem+json"


def top_up(api: Api, top_up_id: str, member: str, amount: int, currency: str = "CNY", **caller: Any) -> Reply:
    return api.call("POST", "/v1/top-ups", {"top_up_id": top_up_id, "member_id": member, "amount_minor": amount,
                                            "currency": currency}, **(caller or STAFF))


def topped(api: Api, top_up_id: str, member: str, amount: int) -> dict[str, Any]:
    reply = top_up(api, top_up_id, member, amount)
    assert reply.status == 201, reply.body
    return dict(reply.body)


def stored(api: Api, member: str) -> dict[str, Any] | None:
    reply = api.call("GET", f"/v1/members/{member}", **STAFF)
    assert reply.status == 200, reply.body
    found = reply.body["balances"].get("stored_value")
    return dict(found) if found is not None else None


def held(api: Api, member: str) -> tuple[int, int]:
    found = stored(api, member)
    assert found is not None
    return found["principal_minor"], found["bonus_minor"]


def withdraw(api: Api, member: str, withdrawal_id: str, code: str | None = None, **caller: Any) -> Reply:
    body: dict[str, Any] = {"withdrawal_id": withdrawal_id}
    if code is not None:
        body["member_code"] = code
    return api.call("POST", f"/v1/members/{member}/stored-value/withdrawals", body, **(caller or ADMIN))


def sv_entries(api: Api, member: str) -> list[dict[str, Any]]:
    return [e for e in reversed(api.ledger(member)) if e["asset"] == "stored_value"]


def set_cap(api: Api, cap: int) -> None:
    reply = api.call("PUT", "/v1/wallet/settings", {**DEFAULTS, "max_principal_minor": cap}, **ADMIN)
    assert reply.status == 200, reply.body


# -- settings -------------------------------------------------------------------------------------------------------

def test_settings_are_the_defaults_until_an_admin_changes_them(api: Api) -> None:
    reply = api.call("GET", "/v1/wallet/settings", **ADMIN)
    assert (reply.status, reply.body) == (200, DEFAULTS)
    changed = {"top_up_bonus": [{"min_minor": 10000, "bonus_bps": 200}, {"min_minor": 100000, "bonus_bps": 1000}],
               "max_principal_minor": 1000000}
    reply = api.call("PUT", "/v1/wallet/settings", changed, **ADMIN)
    assert reply.status == 200, reply.body
    shown = {"top_up_bonus": [{"min_minor": 100000, "bonus_bps": 1000}, {"min_minor": 10000, "bonus_bps": 200}],
             "max_principal_minor": 1000000}
    assert reply.body == shown
    assert api.call("GET", "/v1/wallet/settings", **ADMIN).body == shown
    api.sign_up("ann")
    assert topped(api, "T-1", "ann", 100000)["bonus_minor"] == 10000
    assert topped(api, "T-2", "ann", 99999)["bonus_minor"] == 1999  # floor(99999 × 200 / 10000)


@pytest.mark.parametrize("body", [
    {"top_up_bonus": [{"min_minor": 100, "bonus_bps": 10}, {"min_minor": 100, "bonus_bps": 20}],
     "max_principal_minor": 500000},
    {"top_up_bonus": [{"min_minor": 100, "bonus_bps": 10001}], "max_principal_minor": 500000},
    {"top_up_bonus": [{"min_minor": 100, "bonus_bps": -1}], "max_principal_minor": 500000},
    {"top_up_bonus": [{"min_minor": 100, "bonus_bps": 2.5}], "max_principal_minor": 500000},
    {"top_up_bonus": [{"min_minor": "100", "bonus_bps": 2}], "max_principal_minor": 500000},
    {"top_up_bonus": [], "max_principal_minor": -1},
    {"top_up_bonus": []},
])
def test_bad_settings_are_refused_and_write_nothing(api: Api, body: dict[str, Any]) -> None:
    before = dump_tables()
    refused(api.call("PUT", "/v1/wallet/settings", body, **ADMIN), 422, "validation-error")
    assert dump_tables() == before


def test_only_admins_see_or_change_the_settings(api: Api) -> None:
    api.sign_up("ann")
    refused(api.call("GET", "/v1/wallet/settings", **STAFF), 403, "forbidden")
    refused(api.call("PUT", "/v1/wallet/settings", DEFAULTS, **STAFF), 403, "forbidden")
    refused(api.call("GET", "/v1/wallet/settings", as_="ann"), 403, "forbidden")


# -- top-ups --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("amount", "bonus"), [
    (199999, 0), (200000, 2000), (299999, 2999), (300000, 9000), (499999, 14999), (500000, 25000), (1, 0),
])
def test_a_top_up_earns_the_bonus_of_the_highest_tier_it_reaches(api: Api, amount: int, bonus: int) -> None:
    api.sign_up("ann")
    body = topped(api, "T-1", "ann", amount)
    assert body == {"top_up_id": "T-1", "member_id": "ann", "amount_minor": amount, "bonus_minor": bonus,
                    "balances": {"points": {"available": 0, "pending": 0, "lifetime_earned": 0, "expiring": []},
                                 "stored_value": {"principal_minor": amount, "bonus_minor": bonus,
                                                  "currency": "CNY"}}}
    assert held(api, "ann") == (amount, bonus)
    entries = sv_entries(api, "ann")
    assert [(e["entry_id"], e["kind"], e["bucket"], e["amount"]) for e in entries] == (
        [("top_up/T-1/ann/stored_value/principal", "top_up", "principal", amount),
         ("top_up/T-1/ann/stored_value/bonus", "top_up", "bonus", bonus)] if bonus else
        [("top_up/T-1/ann/stored_value", "top_up", "principal", amount)])
    assert api.points("ann") == {"available": 0, "pending": 0, "lifetime_earned": 0}  # a top-up earns no points
    assert api.verify("ann")["balances_match"]


def test_the_cap_lets_the_principal_reach_it_exactly_and_not_one_more(api: Api) -> None:
    api.sign_up("ann")
    topped(api, "T-1", "ann", 300000)
    before = dump_tables()
    refused(top_up(api, "T-2", "ann", 200001), 422, "stored-value-cap")
    refused(top_up(api, "T-3", "ann", 600000), 422, "stored-value-cap")
    assert dump_tables() == before
    assert topped(api, "T-4", "ann", 200000)["balances"]["stored_value"]["principal_minor"] == 500000
    before = dump_tables()
    refused(top_up(api, "T-5", "ann", 1), 422, "stored-value-cap")
    assert dump_tables() == before
    assert held(api, "ann") == (500000, 9000 + 2000)


def quote(api: Api, member: str, amount: int, **caller: Any) -> Reply:
    return api.call("GET", f"/v1/top-ups/quote?member_id={member}&amount_minor={amount}", **(caller or STAFF))


def test_the_till_previews_a_top_ups_bonus_the_next_tier_and_the_room_under_the_cap(api: Api) -> None:
    """Staff may not read the settings (admin), but the till shows what a typed amount earns and what the next tier
    would, from the same rules the top-up applies; nothing is written."""
    api.sign_up("ann")
    before = dump_tables()
    reply = quote(api, "ann", 199999)
    assert (reply.status, reply.body) == (200, {
        "amount_minor": 199999, "bonus_minor": 0, "bonus_bps": 0,
        "next": {"min_minor": 200000, "bonus_bps": 100, "more_minor": 1, "bonus_minor": 2000},
        "principal_minor": 0, "room_minor": 500000, "max_principal_minor": 500000, "fits": True})
    assert dump_tables() == before
    assert quote(api, "ann", 300001).body["bonus_minor"] == 9000  # floor(300001 × 300 / 10000), as the top-up
    assert quote(api, "ann", 300000).body["next"] == {"min_minor": 500000, "bonus_bps": 500, "more_minor": 200000,
                                                      "bonus_minor": 25000}
    assert quote(api, "ann", 500000).body["next"] is None
    topped(api, "T-1", "ann", 300000)
    after = quote(api, "ann", 200001).body
    assert (after["principal_minor"], after["room_minor"], after["fits"]) == (300000, 200000, False)
    assert top_up(api, "T-2", "ann", 200001).slug == "stored-value-cap"  # what the quote said
    assert quote(api, "ann", 200000).body["bonus_minor"] == topped(api, "T-3", "ann", 200000)["bonus_minor"]
    refused(quote(api, "nobody", 1000), 404, "not-found")
    assert quote(api, "ann", 0).status == 422
    assert quote(api, "ann", 1000, as_="ann").status == 403


def test_a_top_up_is_exactly_once_by_its_id(api: Api) -> None:
    api.sign_up("ann")
    first = topped(api, "T-1", "ann", 300000)
    before = dump_tables()
    again = top_up(api, "T-1", "ann", 300000)
    assert (again.status, again.body) == (200, first)
    refused(top_up(api, "T-1", "ann", 300001), 409, "idempotency-mismatch")
    assert dump_tables() == before
    assert held(api, "ann") == (300000, 9000)


def test_top_up_refusals_write_nothing(api: Api) -> None:
    api.sign_up("ann")
    before = dump_tables()
    refused(top_up(api, "T-1", "nobody", 1000), 404, "not-found")
    refused(top_up(api, "T-1", "ann", 1000, currency="USD"), 422, "validation-error")
    refused(top_up(api, "T-1", "ann", 0), 422, "validation-error")
    refused(top_up(api, "T-1", "ann", -5), 422, "validation-error")
    refused(top_up(api, "T-1", "ann", 1000, as_="ann", groups=()), 403, "forbidden")
    assert dump_tables() == before
    assert stored(api, "ann") is None  # never topped up: no stored value shown


# -- paying ---------------------------------------------------------------------------------------------------------

def test_paying_takes_bonus_in_proportion_rounded_down_in_the_purchases_own_write(api: Api) -> None:
    api.sign_up("ann")
    topped(api, "T-1", "ann", 300000)  # 300,000 principal + 9,000 bonus
    reply = api.purchase("O-1", "ann", 12900, stored_value_minor=10000)
    assert reply.status == 201, reply.body
    # bonus share floor(10000 × 9000 / 309000) = 291; principal 9709
    assert reply.body["stored_value"] == {"principal_minor": 9709, "bonus_minor": 291}
    assert reply.body["credits"][0]["points"] == 129  # points on the whole amount, whatever pays for it
    assert held(api, "ann") == (290291, 8709)
    payments = [e for e in sv_entries(api, "ann") if e["kind"] == "payment"]
    assert [(e["entry_id"], e["bucket"], e["amount"]) for e in payments] == [
        ("purchase/O-1/ann/stored_value/principal", "principal", -9709),
        ("purchase/O-1/ann/stored_value/bonus", "bonus", -291)]
    again = api.purchase("O-1", "ann", 12900, stored_value_minor=10000)
    assert (again.status, again.body) == (200, reply.body)
    refused(api.purchase("O-1", "ann", 12900, stored_value_minor=9999), 409, "idempotency-mismatch")
    refused(api.purchase("O-1", "ann", 12900), 409, "idempotency-mismatch")
    assert api.verify("ann")["balances_match"]


def test_a_purchase_without_stored_value_answers_and_records_as_before(api: Api) -> None:
    api.sign_up("ann")
    reply = api.purchase("O-1", "ann", 12900)
    assert reply.status == 201 and "stored_value" not in reply.body
    refund = api.refund("O-1", "R-1", 100)
    assert refund.status == 201 and "stored_value" not in refund.body


def test_not_enough_stored_value_writes_nothing(api: Api) -> None:
    api.sign_up("ann")
    api.sign_up("bob")
    topped(api, "T-1", "ann", 1000)
    before = dump_tables()
    refused(api.purchase("O-1", "ann", 5000, stored_value_minor=1001), 409, "insufficient-funds")
    refused(api.purchase("O-2", "bob", 5000, stored_value_minor=1), 409, "insufficient-funds")
    refused(api.purchase("O-3", "ann", 500, stored_value_minor=501), 422, "validation-error")
    refused(api.purchase("O-4", "ann", 500, stored_value_minor=0), 422, "validation-error")
    assert dump_tables() == before
    reply = api.purchase("O-1", "ann", 5000, stored_value_minor=1000)  # all of it
    assert reply.status == 201, reply.body
    assert reply.body["stored_value"] == {"principal_minor": 1000, "bonus_minor": 0}
    assert held(api, "ann") == (0, 0)


# -- refunds --------------------------------------------------------------------------------------------------------

def test_refunds_give_back_exactly_floor_of_each_part(api: Api) -> None:
    api.sign_up("ann")
    topped(api, "T-1", "ann", 300000)
    paid = api.purchase("O-1", "ann", 30000, stored_value_minor=20000).body["stored_value"]
    # bonus floor(20000 × 9000 / 309000) = 582, principal 19418
    assert paid == {"principal_minor": 19418, "bonus_minor": 582}
    first = api.refund("O-1", "R-1", 10000)
    assert first.status == 201, first.body
    # floor(19418 × 10000 / 30000) = 6472; floor(582 × 10000 / 30000) = 194
    assert first.body["stored_value"] == {"principal_minor": 6472, "bonus_minor": 194}
    second = api.refund("O-1", "R-2", 7)
    # floor(19418 × 10007 / 30000) - 6472 = 6477 - 6472 = 5; floor(582 × 10007 / 30000) - 194 = 194 - 194 = 0
    assert second.body["stored_value"] == {"principal_minor": 5, "bonus_minor": 0}
    rest = api.refund("O-1", "R-3", 30000 - 10007)
    assert rest.body["stored_value"] == {"principal_minor": 19418 - 6477, "bonus_minor": 582 - 194}
    assert held(api, "ann") == (300000, 9000)  # every part given back, exactly
    refunds = [e for e in sv_entries(api, "ann") if e["kind"] == "refund"]
    assert sum(e["amount"] for e in refunds if e["bucket"] == "principal") == 19418
    assert sum(e["amount"] for e in refunds if e["bucket"] == "bonus") == 582
    again = api.refund("O-1", "R-1", 10000)
    assert (again.status, again.body) == (200, first.body)
    assert api.verify("ann")["balances_match"]


def test_a_refund_may_give_principal_back_past_the_cap(api: Api) -> None:
    api.sign_up("ann")
    topped(api, "T-1", "ann", 100000)  # 100,000 principal, no bonus
    assert api.purchase("O-1", "ann", 100000, stored_value_minor=100000).status == 201
    topped(api, "T-2", "ann", 500000)  # back to the cap
    assert held(api, "ann") == (500000, 25000)
    assert api.refund("O-1", "R-1", 100000).body["stored_value"] == {"principal_minor": 100000, "bonus_minor": 0}
    assert held(api, "ann") == (600000, 25000)
    refused(top_up(api, "T-3", "ann", 1), 422, "stored-value-cap")
    assert api.verify("ann")["balances_match"]


# -- withdrawals ----------------------------------------------------------------------------------------------------

def test_a_withdrawal_pays_back_the_principal_and_forfeits_the_bonus(api: Api) -> None:
    api.sign_up("ann")
    topped(api, "T-1", "ann", 500000)
    api.purchase("O-1", "ann", 10000, stored_value_minor=10000)
    principal, bonus = held(api, "ann")
    reply = withdraw(api, "ann", "W-1")
    assert reply.status == 201, reply.body
    assert reply.body == {"withdrawal_id": "W-1", "principal_minor": principal, "bonus_forfeited_minor": bonus}
    assert held(api, "ann") == (0, 0)
    last = [e for e in sv_entries(api, "ann") if e["kind"] == "withdrawal"]
    assert [(e["entry_id"], e["bucket"], e["amount"]) for e in last] == [
        ("withdrawal/ann/W-1/ann/stored_value/principal", "principal", -principal),
        ("withdrawal/ann/W-1/ann/stored_value/bonus", "bonus", -bonus)]
    before = dump_tables()
    again = withdraw(api, "ann", "W-1")
    assert (again.status, again.body) == (200, reply.body)
    assert dump_tables() == before
    empty = withdraw(api, "ann", "W-2")  # nothing left: recorded with zeros, no entry
    assert (empty.status, empty.body) == (201, {"withdrawal_id": "W-2", "principal_minor": 0,
                                                "bonus_forfeited_minor": 0})
    assert len(sv_entries(api, "ann")) == len(last) + 4
    assert api.verify("ann")["balances_match"]


def test_staff_withdraw_only_with_the_members_current_code(api: Api) -> None:
    api.sign_up("ann")
    topped(api, "T-1", "ann", 200000)
    before = dump_tables()
    refused(withdraw(api, "ann", "W-1", **STAFF), 422, "member-code-invalid")
    refused(withdraw(api, "ann", "W-1", "WRONGCODE", **STAFF), 422, "member-code-invalid")
    refused(withdraw(api, "ann", "W-1", as_="ann", groups=()), 403, "forbidden")
    refused(withdraw(api, "nobody", "W-1"), 404, "not-found")
    assert dump_tables() == before
    code = api.call("GET", "/v1/members/me/card", as_="ann").body["member_code"]
    reply = withdraw(api, "ann", "W-1", code, **STAFF)
    assert (reply.status, reply.body) == (201, {"withdrawal_id": "W-1", "principal_minor": 200000,
                                                "bonus_forfeited_minor": 2000})
    assert held(api, "ann") == (0, 0)

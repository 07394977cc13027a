"""Calendar multipliers (issue 14): the buyer's own points times the highest multiplier of the local date; referral
credits from the base, so nothing compounds up the tree; every multiplied entry names its rule."""

from __future__ import annotations

from typing import Any

from loyalty.shared.clock import FixedClock
from tests.support import Api, CallAs

ADMIN: CallAs = {"as_": "boss", "groups": ("admin",)}
PLAIN = {"points_per_currency_unit": 1, "referral_rates_bps": [1000, 500], "hold_days": 0, "currency": "CNY"}
HOUR = 3600


def publish(api: Api, **earning: Any) -> dict[str, Any]:
    reply = api.call("PUT", "/v1/program", {**PLAIN, **earning}, **ADMIN)
    assert reply.status == 200, reply.body
    return reply.body


def test_a_holiday_doubles_the_buyers_points_and_not_the_tree(api: Api, clock: FixedClock) -> None:
    # START is Monday 2026-11-23 09:30 UTC: 17:30 in Shanghai, the 23rd there too
    publish(api, multipliers=[{"name": "Singles' week", "from": "2026-11-20", "to": "2026-11-23", "bps": 20000},
                              {"name": "Member day", "day_of_month": 24, "bps": 30000}])
    api.chain("alice", "bob", "carol")
    doubled = api.purchase("O-1", "carol", 12_900)
    assert doubled.status == 201
    assert doubled.body["multiplier"] == {"name": "Singles' week", "bps": 20000}
    assert [(c["member_id"], c["points"]) for c in doubled.body["credits"]] == [
        ("carol", 258), ("bob", 12), ("alice", 6)]  # base 129: referral credits from the base
    own = api.ledger("carol")[0]
    assert (own["amount"], own["rule"], own["multiplier_bps"]) == (258, "calendar:Singles' week", 20000)
    assert "rule" not in api.ledger("bob")[0]
    assert api.purchase("O-1", "carol", 12_900).body == doubled.body  # the replay answers the same

    clock.advance(6 * HOUR + 29 * 60)  # 23:59 in Shanghai: still the 23rd
    assert api.purchase("O-2", "carol", 1_000).body["credits"][0]["points"] == 20
    clock.advance(60)  # 00:00:xx on the 24th in Shanghai (16:00 UTC on the 23rd): member day, triple
    tripled = api.purchase("O-3", "carol", 1_000)
    assert tripled.body["multiplier"] == {"name": "Member day", "bps": 30000}
    assert tripled.body["credits"][0]["points"] == 30
    clock.advance(24 * HOUR)  # the 25th: no multiplier, and the field is absent
    plain = api.purchase("O-4", "carol", 1_000)
    assert "multiplier" not in plain.body and plain.body["credits"][0]["points"] == 10

    refunded = api.refund("O-1", "R-1", 12_900)  # a full refund reverses the multiplied points exactly
    assert [(r["member_id"], r["points"]) for r in refunded.body["reversals"]] == [
        ("carol", 258), ("bob", 12), ("alice", 6)]
    assert api.points("carol")["available"] == 20 + 30 + 10


def test_the_programmes_time_zone_decides_the_date(api: Api, clock: FixedClock) -> None:
    publish(api, timezone="America/New_York",
            multipliers=[{"name": "Black Friday", "from": "2026-11-27", "to": "2026-11-27", "bps": 20000}])
    api.chain("dan")
    clock.advance(4 * 24 * HOUR - 9 * HOUR)  # 2026-11-27 00:30 UTC: still the 26th in New York
    assert "multiplier" not in api.purchase("O-1", "dan", 1_000).body
    clock.advance(5 * HOUR)  # 05:30 UTC: 00:30 on the 27th in New York
    assert api.purchase("O-2", "dan", 1_000).body["multiplier"] == {"name": "Black Friday", "bps": 20000}


def test_put_keeps_the_earning_rules_a_body_leaves_out(api: Api) -> None:
    rules = publish(api, timezone="Europe/Paris", actions={"review": {"points": 20, "per_day": 1}},
                    multipliers=[{"name": "Member day", "day_of_month": 8, "bps": 30000}])
    kept = publish(api)  # a body of the contract's keys only
    for key in ("timezone", "actions", "multipliers"):
        assert kept[key] == rules[key]
    assert kept["actions"] == {"review": {"points": 20, "per_day": 1, "per_month": None, "lifetime": None}}
    cleared = publish(api, actions={}, multipliers=[])
    assert (cleared["actions"], cleared["multipliers"], cleared["timezone"]) == ({}, [], "Europe/Paris")
    assert api.call("GET", f"/v1/program/versions/{rules['version']}", as_="x").body == rules


def test_bad_earning_rules_are_refused_and_publish_nothing(api: Api) -> None:
    for bad in ({"timezone": "Mars/Olympus"}, {"multipliers": [{"name": "x", "bps": 20000}]},
                {"multipliers": [{"name": "x", "bps": 20000, "from": "2027-02-12", "to": "2027-02-06"}]},
                {"multipliers": [{"name": "x", "bps": 20000, "day_of_month": 32}]},
                {"actions": {"Review!": {"points": 5}}}, {"actions": {"review": {"points": -1}}},
                {"actions": {"review": {"points": 5, "per_day": 0}}}, {"surprise": {"chance_bps": 1}}):
        reply = api.call("PUT", "/v1/program", {**PLAIN, **bad}, **ADMIN)
        assert (reply.status, reply.slug) == (422, "validation-error"), bad
    wechat = api.call("PUT", "/v1/program", {**PLAIN, "compliance_profile": "cn-wechat",
                                             "actions": {"share": {"points": 5, "per_day": 3}}}, **ADMIN)
    assert (wechat.status, wechat.slug) == (422, "compliance-profile")
    assert api.call("GET", "/v1/program", as_="x").body["version"] == 1

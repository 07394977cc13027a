"""Rehearsing a rule change (issue 14): a period's recorded purchases replayed under proposed rules, next to what was
issued for them; the figures are computed here independently; nothing but the simulation's own item is written."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from loyalty.shared.clock import FixedClock, to_rfc3339
from tests.support import Api, CallAs, dump_tables

ADMIN: CallAs = {"as_": "boss", "groups": ("admin",)}
STAFF: CallAs = {"as_": "pos", "groups": ("staff",)}
PLAIN = {"points_per_currency_unit": 1, "referral_rates_bps": [1000, 500], "hold_days": 0, "currency": "CNY"}
DAY = 24 * 3600
PATH = "/v1/program/simulations"
# START is 2026-11-23 09:30 UTC: 17:30 on the 23rd in Shanghai; the purchases below are recorded on the 23rd and 24th


def story(api: Api, clock: FixedClock) -> None:
    """alice → bob → carol (each referred by the one before), dan on his own; purchases over two local days, some
    refunded in part, one in full; a purchase on the 25th, outside the period replayed."""
    assert api.call("PUT", "/v1/program", PLAIN, **ADMIN).status == 200
    api.chain("alice", "bob", "carol")
    api.sign_up("dan")
    for order, buyer, amount in (("O-1", "carol", 12_900), ("O-2", "dan", 1_000), ("O-3", "bob", 5_050)):
        assert api.purchase(order, buyer, amount).status == 201
    assert api.refund("O-1", "R-1", 4_300).status == 201  # a third of O-1
    clock.advance(DAY)  # the 24th
    for order, buyer, amount in (("O-4", "carol", 3_399), ("O-5", "carol", 77_700)):
        assert api.purchase(order, buyer, amount).status == 201
    assert api.refund("O-5", "R-2", 77_700).status == 201  # in full
    assert api.refund("O-3", "R-3", 1_000).status == 201  # a refund recorded later counts against its purchase
    clock.advance(DAY)  # the 25th
    assert api.purchase("O-6", "carol", 10_000).status == 201


# (order, buyer, its referral path nearest first, amount, refunded, local day of recording)
PURCHASES = [("O-1", "carol", ("bob", "alice"), 12_900, 4_300, "2026-11-23"),
             ("O-2", "dan", (), 1_000, 0, "2026-11-23"),
             ("O-3", "bob", ("alice",), 5_050, 1_000, "2026-11-23"),
             ("O-4", "carol", ("bob", "alice"), 3_399, 0, "2026-11-24"),
             ("O-5", "carol", ("bob", "alice"), 77_700, 77_700, "2026-11-24")]


def expected(per_unit: int, rates: list[int], multiplier: dict[str, int]) -> dict[str, Any]:
    """The figures worked out by hand's rules: base = whole yuan × rate; the buyer's points × the day's multiplier;
    referral points from the base; each credit less floor(credit × refunded / amount)."""
    by_level = [0] * (1 + len(rates))
    by_member: dict[str, int] = {}
    by_day: dict[str, int] = {}
    for _, buyer, path, amount, refunded, day in PURCHASES:
        base = amount // 100 * per_unit
        credits = [(buyer, 0, base * multiplier.get(day, 10_000) // 10_000)]
        credits += [(m, level, base * rates[level - 1] // 10_000) for level, m in enumerate(path[:len(rates)], 1)]
        for member, level, points in credits:
            net = points - points * refunded // amount
            by_level[level] += net
            by_member[member] = by_member.get(member, 0) + net
            by_day[day] = by_day.get(day, 0) + net
    return {"points_issued": sum(by_level), "by_level": by_level, "by_member": by_member, "by_day": by_day}


def issued_by_ledger(api: Api) -> int:
    """Every purchase, referral and refund entry of the orders replayed, as the members' ledgers have them."""
    orders = {p[0] for p in PURCHASES}
    total = 0
    for member in ("alice", "bob", "carol", "dan"):
        for entry in api.ledger(member):
            source = entry.get("source") or {}
            ref = str(source.get("id", "")).split("/")[0]
            if entry["kind"] in ("purchase", "referral", "refund") and ref in orders:
                total += entry["amount"]
    return total


def simulate(api: Api, simulation_id: str, program: dict[str, Any], first: str = "2026-11-23",
             last: str = "2026-11-24") -> dict[str, Any]:
    started = api.call("POST", PATH, {"simulation_id": simulation_id, "program": program, "from": first,
                                      "to": last}, **ADMIN)
    assert started.status == 202, started.body
    done = api.call("GET", f"{PATH}/{simulation_id}", **ADMIN)
    assert done.status == 200 and done.body["status"] == "done", done.body
    return dict(done.body)


def test_the_current_rules_replayed_give_what_was_issued(api: Api, clock: FixedClock) -> None:
    story(api, clock)
    before = dump_tables()
    found = simulate(api, "same-rules", {})
    want = expected(1, [1000, 500], {})
    assert found["purchases"] == 5 and found["members"] == 3  # carol, dan, bob bought; O-6 is after the period
    assert found["current"] == {"points_issued": want["points_issued"], "by_level": want["by_level"]}
    assert found["proposed"] == found["current"]
    assert found["current"]["points_issued"] == issued_by_ledger(api)
    assert found["change"] == {"points": 0, "bps": 0}
    assert found["earners"]["same"] == found["earners"]["total"] == 4
    assert [(d["date"], d["purchases"], d["current"]) for d in found["by_day"]] == [
        ("2026-11-23", 3, want["by_day"]["2026-11-23"]), ("2026-11-24", 2, want["by_day"]["2026-11-24"])]
    assert found["progress"]["purchases_replayed"] == 5
    assert found["progress"]["parts_done"] == found["progress"]["parts"] >= 1
    assert found["program"]["referral_rates_bps"] == [1000, 500] and found["timezone"] == "Asia/Shanghai"
    assert "tier and status multipliers" in found["not_replayed"]
    assert_only_simulations_written(before, dump_tables(), {"SIMULATION#same-rules"})


def test_a_proposed_change_gives_the_independently_computed_figures(api: Api, clock: FixedClock) -> None:
    story(api, clock)
    before = dump_tables()
    program = {"points_per_currency_unit": 2, "referral_rates_bps": [2000, 300, 100],
               "multipliers": [{"name": "Member day", "from": "2026-11-24", "to": "2026-11-24", "bps": 30000}]}
    found = simulate(api, "richer", program)
    now, then = expected(1, [1000, 500], {}), expected(2, [2000, 300, 100], {"2026-11-24": 30000})
    # by level as far as anyone is credited: no buyer has a third ancestor
    assert then["by_level"][3] == 0
    assert found["current"] == {"points_issued": now["points_issued"], "by_level": now["by_level"]}
    assert found["proposed"] == {"points_issued": then["points_issued"], "by_level": then["by_level"][:3]}
    # worked by hand: O-1 base 258 (×2), a third refunded: 172 to carol, 34 to bob, 6 to alice ...
    assert found["proposed"]["by_level"][0] == 172 + 20 + 81 + 198 + 0
    assert found["change"]["points"] == then["points_issued"] - now["points_issued"]
    assert found["change"]["bps"] == (then["points_issued"] - now["points_issued"]) * 10_000 // now["points_issued"]
    assert found["earners"] == {"total": 4, "more": 4, "fewer": 0, "same": 0, "more_bps": 10_000, "fewer_bps": 0}
    assert {d["date"]: d["proposed"] for d in found["by_day"]} == then["by_day"]
    assert found["program"]["points_per_currency_unit"] == 2 and found["program"]["hold_days"] == 0
    # the programme itself is unchanged
    assert api.call("GET", "/v1/program", as_="x").body["referral_rates_bps"] == [1000, 500]
    assert_only_simulations_written(before, dump_tables(), {"SIMULATION#richer"})

    # fewer points for the tree: the referrers lose, the buyers keep theirs
    lower = simulate(api, "leaner", {"referral_rates_bps": [500]})
    assert lower["earners"]["fewer"] == 2 and lower["earners"]["same"] == 2  # alice and bob lose; carol, dan same
    assert lower["earners"]["fewer_bps"] == 5000
    assert lower["proposed"]["by_level"][2] == 0


def test_replays_and_reused_ids(api: Api, clock: FixedClock) -> None:
    story(api, clock)
    body = {"simulation_id": "sim-1", "program": {"referral_rates_bps": [1500]}, "from": "2026-11-23",
            "to": "2026-11-24"}
    first = api.call("POST", PATH, body, **ADMIN)
    assert first.status == 202 and first.body["status"] == "running"
    done = api.call("GET", f"{PATH}/sim-1", **ADMIN).body
    again = api.call("POST", PATH, body, **ADMIN)
    assert (again.status, again.body) == (200, done)  # the same simulation, as it is now
    before = dump_tables()
    for other in ({**body, "program": {"referral_rates_bps": [1600]}}, {**body, "to": "2026-11-23"}):
        reply = api.call("POST", PATH, other, **ADMIN)
        assert (reply.status, reply.slug) == (409, "idempotency-mismatch")
    assert dump_tables() == before


def test_202_while_it_runs_then_done(api: Api, clock: FixedClock) -> None:
    story(api, clock)
    assert api.gateway.jobs is not None
    api.gateway.jobs.held.add("SimulationsFunction")  # the queue keeps the run for now
    started = api.call("POST", PATH, {"simulation_id": "later", "program": {}, "from": "2026-11-01",
                                      "to": "2026-11-30"}, **ADMIN)
    assert started.status == 202
    running = api.call("GET", f"{PATH}/later", **ADMIN).body
    assert running["status"] == "running" and running["purchases"] is None
    assert running["progress"]["purchases_replayed"] == 0
    api.gateway.jobs.held.discard("SimulationsFunction")
    api.gateway.jobs.deliver()
    done = api.call("GET", f"{PATH}/later", **ADMIN).body
    assert done["status"] == "done" and done["purchases"] == 6 and len(done["by_day"]) == 30
    assert done["finished_at"] is not None


def test_bad_bodies_are_refused_and_write_nothing(api: Api, clock: FixedClock) -> None:
    story(api, clock)
    good = {"simulation_id": "bad", "program": {}, "from": "2026-11-23", "to": "2026-11-24"}
    before = dump_tables()
    for bad in ({**good, "from": "2026-11-25"}, {**good, "from": "2025-11-23"}, {**good, "to": "tomorrow"},
                {**good, "from": "0001-01-01", "to": "0001-01-02"}, {**good, "from": "9999-12-31", "to": "9999-12-31"},
                {**good, "program": {"currency": "USD"}}, {**good, "program": {"referral_rates_bps": [-1]}},
                {**good, "program": {"rates": [1]}}, {**good, "program": {"version": 1}},
                {**good, "program": {"multipliers": [{"name": "x", "bps": 20000}]}},
                {**good, "program": {"timezone": "Mars/Olympus"}}, {**good, "simulation_id": "a b"},
                {k: v for k, v in good.items() if k != "program"}, {**good, "extra": 1}):
        reply = api.call("POST", PATH, bad, **ADMIN)
        assert (reply.status, reply.slug) == (422, "validation-error"), (bad, reply.body)
    wechat = api.call("POST", PATH, {**good, "program": {"compliance_profile": "cn-wechat",
                                                         "referral_rates_bps": [1000, 500, 200]}}, **ADMIN)
    assert (wechat.status, wechat.slug) == (422, "compliance-profile")
    assert api.call("POST", PATH, good, **STAFF).status == 403
    assert api.call("GET", f"{PATH}/bad", **STAFF).status == 403
    assert api.call("GET", f"{PATH}/nobody", **ADMIN).status == 404
    assert dump_tables() == before


def assert_only_simulations_written(before: dict[str, list[str]], after: dict[str, list[str]],
                                    keys: set[str]) -> None:
    import json

    for table in before:
        added = set(after[table]) - set(before[table])
        gone = set(before[table]) - set(after[table])
        assert not gone, table
        assert {json.loads(i)["pk"]["S"] for i in added} <= keys, table
        if added:
            assert "Earning" in table


def test_a_proposed_expiry_rule_is_shown_as_it_would_be_published(api: Api, clock: FixedClock) -> None:
    """The rehearsal works the rules out as publishing does: a rule dated from a minute after now, none for 0 months
    (it once echoed the body's rule undated, which its own schema refused)."""
    story(api, clock)
    since = to_rfc3339(clock.now() + timedelta(minutes=1))
    for months, shown in ((12, {"months": 12, "since": since}), (0, None)):
        body = {"simulation_id": f"sim-expiry-{months}", "program": {"expiry": {"months": months}},
                "from": "2026-11-23", "to": "2026-11-24"}
        reply = api.call("POST", PATH, body, **ADMIN)
        assert reply.status == 202, reply.body
        assert reply.body["program"].get("expiry") == shown

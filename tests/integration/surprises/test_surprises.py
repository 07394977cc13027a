"""Provably fair surprise points (issue 14): each local day's commitment is published before the day, purchases draw
under its secret, and after the day anyone can check the secret against the commitment and recompute every draw
(here with hmac and hashlib alone, not the service's code). The day's budget pays hits in full or not at all; a full
refund takes the surprise back; refusals write nothing; replays answer the same."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from loyalty.shared.clock import FixedClock
from tests.support import Api, CallAs, dump_tables

ADMIN: CallAs = {"as_": "boss", "groups": ("admin",)}
PLAIN = {"points_per_currency_unit": 1, "referral_rates_bps": [1000, 500], "hold_days": 0, "currency": "CNY"}
HOUR = 3600
TODAY = "2026-11-23"  # START, 09:30 UTC, is 17:30 in Shanghai


def publish(api: Api, **earning: Any) -> dict[str, Any]:
    reply = api.call("PUT", "/v1/program", {**PLAIN, **earning}, **ADMIN)
    assert reply.status == 200, reply.body
    return dict(reply.body)


def surprise(chance_bps: int, min_points: int, max_points: int, daily_budget: int) -> dict[str, int]:
    return {"chance_bps": chance_bps, "min_points": min_points, "max_points": max_points,
            "daily_budget": daily_budget}


def recompute(secret_hex: str, order_id: str, chance_bps: int, min_points: int, max_points: int) -> tuple[bool, int]:
    """The contract's formula, by hand."""
    h = hmac.new(bytes.fromhex(secret_hex), order_id.encode(), hashlib.sha256).digest()
    hit = int.from_bytes(h[0:4], "big") % 10000 < chance_bps
    return hit, (min_points + int.from_bytes(h[4:8], "big") % (max_points - min_points + 1)) if hit else 0


def commitments(api: Api) -> dict[str, Any]:
    reply = api.call("GET", "/v1/program/surprise/commitments")  # no token
    assert reply.status == 200, reply.body
    return dict(reply.body)


def reveal(api: Api, day: str) -> Any:
    return api.call("GET", f"/v1/program/surprise/days/{day}")


def test_a_day_is_committed_before_drawn_and_revealed_after(api: Api, clock: FixedClock) -> None:
    rules = publish(api, surprise=surprise(3000, 10, 100, 1_000_000))
    assert rules["surprise"] == surprise(3000, 10, 100, 1_000_000)
    published = commitments(api)
    assert published["today"] == TODAY
    days = [i["date"] for i in published["items"]]
    assert days[0] == TODAY and days[-1] == "2026-11-30" and len(days) == 8  # today and the next 7
    assert not any(i["revealed"] for i in published["items"])
    committed = published["items"][0]["commitment"]
    assert commitments(api)["items"] == published["items"]  # recorded once: the same on every read

    api.chain("alice", "carol")
    answers = {f"O-{n}": api.purchase(f"O-{n}", "carol", 1_000) for n in range(30)}
    assert all(a.status == 201 for a in answers.values())
    paid = {o: a.body["surprise"]["points"] for o, a in answers.items() if "surprise" in a.body}
    assert 0 < len(paid) < 30  # 30 % of 30 draws: some hit, some miss (fixed by the day's secret)
    assert api.purchase("O-0", "carol", 1_000).body == answers["O-0"].body  # a replay answers the same
    bonus = [e for e in api.ledger("carol") if e["kind"] == "bonus"]
    assert sorted((e["amount"], e.get("rule")) for e in bonus) == sorted((p, "surprise") for p in paid.values())
    assert api.points("carol")["available"] == 30 * 10 + sum(paid.values())
    assert api.verify("carol")["chain_valid"] and api.verify("carol")["balances_match"]

    before = dump_tables()
    refused = reveal(api, TODAY)
    assert (refused.status, refused.slug) == (409, "day-not-over")
    assert (reveal(api, "2026-12-01").status, reveal(api, "2026-13-01").status) == (409, 422)
    assert dump_tables() == before  # refusals write nothing

    clock.advance(6 * HOUR + 31 * 60)  # 00:01 on the 24th in Shanghai: the 23rd is over there, not everywhere
    early = reveal(api, TODAY)
    assert (early.status, early.slug) == (409, "day-not-over")
    assert commitments(api)["items"][0]["revealed"] is False
    clock.advance(20 * HOUR - 61)  # 11:59:59 UTC on the 24th: still the 23rd in UTC-12
    assert reveal(api, TODAY).status == 409
    clock.advance(1)  # 12:00 UTC on the 24th: the 23rd is over in every time zone
    day = reveal(api, TODAY)
    assert day.status == 200, day.body
    assert day.body["commitment"] == committed
    assert hashlib.sha256(bytes.fromhex(day.body["secret"])).hexdigest() == committed
    draws = {d["order_id"]: d for d in day.body["draws"]}
    assert set(draws) == set(answers) and day.body["next_cursor"] is None
    for order_id, d in draws.items():
        hit, points = recompute(day.body["secret"], order_id, 3000, 10, 100)
        assert (d["hit"], d["points"], d["chance_bps"], d["min_points"], d["max_points"]) == (
            hit, points, 3000, 10, 100), order_id
        assert d["paid"] == hit and (paid.get(order_id) == points if hit else order_id not in paid)
    assert day.body["paid_points"] == sum(paid.values())
    after = commitments(api)
    assert after["today"] == "2026-11-24" and after["items"][0] == {"date": TODAY, "commitment": committed,
                                                                   "revealed": True}


def test_the_budget_pays_hits_in_full_or_not_at_all(api: Api, clock: FixedClock) -> None:
    publish(api, surprise=surprise(10_000, 40, 40, 119))  # every purchase hits 40; 119 a day pays two
    api.chain("dan")
    answers = [api.purchase(f"B-{n}", "dan", 1_000) for n in range(4)]
    assert [a.status for a in answers] == [201] * 4  # every purchase succeeds
    assert [a.body.get("surprise") for a in answers] == [{"points": 40}, {"points": 40}, None, None]
    assert api.points("dan")["available"] == 4 * 10 + 80  # no partial surprise of the 20 left
    assert api.purchase("B-2", "dan", 1_000).body == answers[2].body  # an unpaid draw replays unpaid
    clock.advance(27 * HOUR)  # past 12:00 UTC on the 24th: the 23rd is over everywhere
    day = reveal(api, TODAY).body
    assert [(d["order_id"], d["hit"], d["points"], d["paid"]) for d in day["draws"]] == [
        ("B-0", True, 40, True), ("B-1", True, 40, True), ("B-2", True, 40, False), ("B-3", True, 40, False)]
    assert day["paid_points"] == 80


def test_a_full_refund_takes_the_surprise_back_and_a_partial_one_leaves_it(api: Api) -> None:
    publish(api, surprise=surprise(10_000, 25, 25, 1_000))
    api.chain("erin")
    assert api.purchase("R-1", "erin", 10_000).body["surprise"] == {"points": 25}
    partial = api.refund("R-1", "r-1", 4_000)
    assert partial.status == 201 and "surprise" not in partial.body
    assert api.points("erin")["available"] == 100 - 40 + 25
    full = api.refund("R-1", "r-2", 6_000)
    assert full.status == 201 and full.body["surprise"] == {"points": 25}
    assert api.points("erin")["available"] == 0
    assert api.refund("R-1", "r-2", 6_000).body == full.body  # replayed, not reversed twice
    assert api.points("erin")["available"] == 0
    assert api.verify("erin")["chain_valid"] and api.verify("erin")["balances_match"]


def test_surprise_points_are_held_like_the_purchases_own(api: Api) -> None:
    publish(api, surprise=surprise(10_000, 7, 7, 1_000), hold_days=7)
    api.chain("fay")
    assert api.purchase("H-1", "fay", 1_000).body["surprise"] == {"points": 7}
    assert (api.points("fay")["pending"], api.points("fay")["available"]) == (17, 0)
    assert api.refund("H-1", "h-1", 1_000).body["surprise"] == {"points": 7}
    assert api.points("fay")["pending"] == 0


def test_surprises_turn_off_and_a_plain_purchase_draws_nothing(api: Api) -> None:
    api.chain("gus")
    plain = api.purchase("P-1", "gus", 1_000)
    assert "surprise" not in plain.body
    publish(api, surprise=surprise(10_000, 5, 5, 100))
    assert api.purchase("P-2", "gus", 1_000).body["surprise"] == {"points": 5}
    assert publish(api)["surprise"] == surprise(10_000, 5, 5, 100)  # left out: kept
    assert "surprise" not in publish(api, surprise=None)  # null: off
    assert "surprise" not in api.purchase("P-3", "gus", 1_000).body
    publish(api, surprise=surprise(10_000, 5, 5, 100))
    assert "surprise" not in publish(api, surprise=surprise(0, 5, 5, 100))  # a chance of 0: off too


def test_bad_surprise_rules_and_unknown_buyers_write_nothing(api: Api) -> None:
    publish(api, surprise=surprise(10_000, 5, 5, 100))
    before = dump_tables()
    for bad in (surprise(10_001, 5, 5, 100), surprise(100, 50, 5, 100), surprise(100, -1, 5, 100),
                {"chance_bps": 100}, {**surprise(100, 5, 5, 100), "extra": 1}):
        reply = api.call("PUT", "/v1/program", {**PLAIN, "surprise": bad}, **ADMIN)
        assert reply.status == 422, (bad, reply.body)
    assert api.purchase("X-1", "nobody", 1_000).status == 404
    assert dump_tables() == before


def test_moving_the_time_zone_west_never_draws_under_a_revealed_secret(api: Api, clock: FixedClock) -> None:
    """Found in review: revealed as soon as the day was over in Shanghai, a day could come back as today when the
    admin moved the programme to Los Angeles, and anyone could pick order ids that win under its public secret. A
    day is revealed only once it is over in every time zone, so no zone's today is ever a revealed day."""
    publish(api, surprise=surprise(1_000, 10, 100, 5_000))
    api.chain("erin")
    assert api.purchase("E-1", "erin", 1_000).status == 201  # the 23rd in Shanghai
    clock.advance(15 * HOUR)  # 00:30 UTC on the 24th, 08:30 in Shanghai: the 23rd is over there
    assert reveal(api, TODAY).status == 409
    publish(api, timezone="America/Los_Angeles")  # 16:30 on the 23rd there: the 23rd is today again
    assert api.purchase("E-2", "erin", 1_000).status == 201
    clock.advance(12 * HOUR)  # 12:30 UTC on the 24th: the 23rd is over everywhere
    day = reveal(api, TODAY).body
    assert {d["order_id"] for d in day["draws"]} == {"E-1", "E-2"}  # both drawn before anyone knew the secret

"""Expiry (issue 14, docs/earning-expiry.md): points expire at the end of the local day 12 months after they became
available, oldest first, read-time exact; the next write records an ``expiry`` entry; a notice goes out 30 days
before the month they expire in; points that became available before the rule never expire."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from loyalty.shared.clock import FixedClock, parse_rfc3339
from tests.support import Api, CallAs

ADMIN: CallAs = {"as_": "boss", "groups": ("admin",)}
STAFF: CallAs = {"as_": "pos", "groups": ("staff",)}
PLAIN = {"points_per_currency_unit": 1, "referral_rates_bps": [1000], "hold_days": 7, "currency": "CNY"}
DAY = 86_400


def publish(api: Api, **changes: Any) -> dict[str, Any]:
    reply = api.call("PUT", "/v1/program", {**PLAIN, **changes}, **ADMIN)
    assert reply.status == 200, reply.body
    return dict(reply.body)


def points(api: Api, member_id: str) -> dict[str, Any]:
    reply = api.call("GET", f"/v1/members/{member_id}", **STAFF)
    assert reply.status == 200, reply.body
    return dict(reply.body["balances"]["points"])


def notices(api: Api, member_id: str) -> list[dict[str, Any]]:
    return [m for m in api.outbox(f"{member_id}@example.com")
            if m["headers"].get("X-Loyalty-Kind") == "points_expiring"]


def adjust(api: Api, adjustment_id: str, member_id: str, amount: int) -> dict[str, Any]:
    reply = api.call("POST", "/v1/adjustments", {"adjustment_id": adjustment_id, "member_id": member_id,
                                                 "points": amount, "reason": "test"}, **ADMIN)
    assert reply.status == 201, reply.body
    return dict(reply.body)


def test_points_expire_a_year_later_oldest_first_with_the_notice_first(api: Api, clock: FixedClock) -> None:
    rule = publish(api, expiry={"months": 12})
    assert rule["expiry"] == {"months": 12, "since": "2026-11-23T09:31:00Z"}  # a minute after publication
    clock.advance(120)
    api.chain("alice", "bob")
    assert api.purchase("O-1", "bob", 12_900).status == 201  # 129 held 7 days, until 2026-11-30 09:32 UTC
    shown = points(api, "bob")
    assert (shown["pending"], shown["available"], shown["expiring"]) == (129, 0, [])

    clock.advance(8 * DAY)  # the hold has ended: a read dates them at once (17:32 on 30 Nov in Shanghai)
    shown = points(api, "bob")
    assert (shown["available"], shown["expiring"]) == (129, [{"points": 129, "on": "2027-11-30"}])
    assert api.redeem("bob", 29, "k-1").status == 201  # the oldest go first: 100 left of that day
    assert points(api, "bob")["expiring"] == [{"points": 100, "on": "2027-11-30"}]
    release = next(e for e in api.ledger("bob") if e["kind"] == "release" and e["bucket"] == "available")
    assert release["expires"] == [["2027-11-30T16:00:00Z", 129]]  # the end of that day in Shanghai

    clock.advance(300 * DAY)  # 2027-09-27: no notice yet
    api.tick()
    assert not notices(api, "bob")
    clock.advance(6 * DAY)  # 2027-10-03 17:32 in Shanghai: past 30 days before 1 November, out of quiet hours
    api.tick()
    [notice] = notices(api, "bob")  # in the member's language (a fresh member's is zh-CN)
    assert notice["subject"] == "您有 100 积分即将过期"
    assert "2027-11-30" in notice["text"] and "您现在共有 100 积分可用" in notice["text"]
    assert parse_rfc3339(notice["sent_at"]) < parse_rfc3339("2027-11-30T16:00:00Z") - timedelta(days=30)
    assert api.messages("bob")[("points_expiring", "2027-11")]["status"] == "sent"

    clock.advance(59 * DAY)  # 2027-12-01 17:32 in Shanghai: 30 November is over
    shown = points(api, "bob")
    assert (shown["available"], shown["expiring"], shown["lifetime_earned"]) == (0, [], 129)  # read-time exact
    assert api.redeem("bob", 1, "k-2").status == 409  # never spendable, before any write records it
    assert api.ledger("bob")[0]["kind"] != "expiry"
    adjust(api, "A-1", "bob", 5)  # the next write records it, before its own line
    expiry, credit = api.ledger("bob")[1], api.ledger("bob")[0]
    assert (expiry["kind"], expiry["amount"], expiry["bucket"]) == ("expiry", -100, "available")
    assert expiry["expires"] == [["2027-11-30T16:00:00Z", 100]]
    assert credit["expires"] == [["2028-12-01T16:00:00Z", 5]]  # the credit is dated from now: 1 Dec 2028
    assert points(api, "bob")["available"] == 5
    checked = api.verify("bob")
    assert checked["chain_valid"] and checked["balances_match"], checked
    figures = api.call("GET", "/v1/metrics?from=2027-11-01&to=2027-12-31", **STAFF).body
    assert figures["points"]["expired"] == 100


def test_points_available_before_the_rule_never_expire_and_are_spent_first(api: Api, clock: FixedClock) -> None:
    publish(api, hold_days=0)
    api.chain("carol")
    adjust(api, "A-1", "carol", 50)  # before any rule: never expires
    publish(api, hold_days=0, expiry={"months": 1})
    adjust(api, "A-2", "carol", 10)  # within the minute the rule takes to take effect: not dated either
    clock.advance(61)
    adjust(api, "A-3", "carol", 30)
    assert points(api, "carol")["expiring"] == [{"points": 30, "on": "2026-12-23"}]
    assert api.redeem("carol", 70, "k-1").status == 201  # the 60 undated (older) first, then 10 of the dated
    assert points(api, "carol")["expiring"] == [{"points": 20, "on": "2026-12-23"}]
    clock.advance(31 * DAY)
    shown = points(api, "carol")
    assert (shown["available"], shown["expiring"]) == (0, [])
    clock.advance(400 * DAY)
    adjust(api, "A-4", "carol", 7)
    assert [e["kind"] for e in api.ledger("carol")[:2]] == ["adjustment", "expiry"]
    publish(api, hold_days=0, expiry=None)  # off: new points are no longer dated
    adjust(api, "A-5", "carol", 3)
    assert "expires" not in api.ledger("carol")[0]
    assert points(api, "carol")["expiring"] == [{"points": 7, "on": "2028-02-28"}]  # already dated: kept
    assert api.verify("carol")["balances_match"]


def test_a_notice_whose_points_were_spent_is_not_sent(api: Api, clock: FixedClock) -> None:
    publish(api, hold_days=0, expiry={"months": 2})
    clock.advance(61)
    api.chain("dan")
    adjust(api, "A-1", "dan", 40)  # expires at the end of 23 January 2027: notice due on 2 December
    assert api.redeem("dan", 40, "k-1").status == 201
    clock.advance(10 * DAY)
    api.tick()
    assert not notices(api, "dan")
    assert api.messages("dan")[("points_expiring", "2027-01")]["status"] == "dropped"


def test_the_rule_keeps_its_date_when_republished_and_bad_rules_publish_nothing(api: Api, clock: FixedClock) -> None:
    first = publish(api, expiry={"months": 12})
    clock.advance(DAY)
    assert publish(api)["expiry"] == first["expiry"]  # left out: kept
    assert publish(api, expiry={"months": 12})["expiry"] == first["expiry"]  # the same months: the same since
    assert publish(api, expiry={"months": 6})["expiry"]["since"] == "2026-11-24T09:31:00Z"
    version = api.call("GET", "/v1/program", as_="x").body["version"]
    bad: Any
    for bad in ({"months": 121}, {"months": -1}, {"months": "12"}, {"months": 1.5}, {"days": 30}, []):
        refused = api.call("PUT", "/v1/program", {**PLAIN, "expiry": bad}, **ADMIN)
        assert refused.status == 422, (bad, refused.body)
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert api.call("GET", "/v1/program", as_="x").body["version"] == version
    assert "expiry" not in publish(api, expiry={"months": 0})

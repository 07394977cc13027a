"""Points for actions (issue 14, docs/earning-actions.md): staff credit a review, a share or a converted lead, members
check in once a local day; every action earns the programme's points at once under per-day, per-month and lifetime
caps that count actions; every refusal writes nothing; every write is exactly once."""

from __future__ import annotations

from typing import Any

from loyalty.shared.clock import FixedClock
from tests.support import Api, CallAs, dump_tables

ADMIN: CallAs = {"as_": "boss", "groups": ("admin",)}
STAFF: CallAs = {"as_": "pos", "groups": ("staff",)}
PLAIN = {"points_per_currency_unit": 1, "referral_rates_bps": [1000, 500], "hold_days": 7, "currency": "CNY"}
HOUR, DAY = 3600, 86400


def publish(api: Api, **earning: Any) -> dict[str, Any]:
    reply = api.call("PUT", "/v1/program", {**PLAIN, **earning}, **ADMIN)
    assert reply.status == 200, reply.body
    return dict(reply.body)


def act(api: Api, action_id: str, member_id: str, action: str = "review", **extra: Any) -> Any:
    return api.call("POST", "/v1/actions", {"action_id": action_id, "member_id": member_id, "action": action,
                                            **extra}, **STAFF)


def check_in(api: Api, member_id: str, body: Any = None) -> Any:
    return api.call("POST", "/v1/members/me/check-ins", body, as_=member_id)


def refused(api: Api, call: Any, status: int, slug: str) -> None:
    """The call is refused with that problem and writes nothing."""
    before = dump_tables()
    reply = call()
    assert (reply.status, reply.slug) == (status, slug), reply.body
    assert dump_tables() == before


def standing(api: Api, member_id: str, action: str) -> dict[str, Any]:
    reply = api.call("GET", f"/v1/members/{member_id}/actions", **STAFF)
    assert reply.status == 200, reply.body
    return next(a for a in reply.body["actions"] if a["action"] == action)


def test_a_review_is_capped_per_day_then_per_month_then_for_life(api: Api, clock: FixedClock) -> None:
    # START is Monday 2026-11-23 09:30 UTC: 17:30 on the 23rd in Shanghai (the default time zone)
    rules = publish(api, actions={"review": {"points": 20, "per_day": 1, "per_month": 3, "lifetime": 4}})
    api.chain("ann")
    first = act(api, "RV-1", "ann", ref="POS-1")
    assert first.status == 201, first.body
    assert (first.body["action_id"], first.body["points"]) == ("RV-1", 20)
    entry = first.body["entry"]
    assert (entry["member_id"], entry["amount"], entry["bucket"], entry["kind"], entry["rule"], entry["source"],
            entry["rule_version"], entry["level"]) == (
        "ann", 20, "available", "action", "action:review", {"type": "action", "id": "RV-1"}, rules["version"], None)
    assert "multiplier_bps" not in entry
    assert api.points("ann")["available"] == 20  # at once: no hold, whatever hold_days says

    refused(api, lambda: act(api, "RV-2", "ann"), 409, "action-capped")  # per day
    clock.advance(DAY)
    assert act(api, "RV-2", "ann").status == 201  # the 24th: the same id, refused before, is free to use
    clock.advance(DAY)
    assert act(api, "RV-3", "ann").status == 201  # the 25th: three in November
    clock.advance(DAY)
    refused(api, lambda: act(api, "RV-4", "ann"), 409, "action-capped")  # per month
    assert standing(api, "ann", "review") == {"action": "review", "points": 20, "today": 0, "this_month": 3,
                                              "lifetime": 3, "per_day": 1, "per_month": 3, "lifetime_cap": 4}
    clock.advance(5 * DAY)  # 2026-12-01 in Shanghai: a new month
    assert act(api, "RV-4", "ann").status == 201
    clock.advance(DAY)
    refused(api, lambda: act(api, "RV-5", "ann"), 409, "action-capped")  # lifetime
    clock.advance(40 * DAY)  # a new year changes nothing for life
    refused(api, lambda: act(api, "RV-5", "ann"), 409, "action-capped")

    # Replays answer their first answer, even past the caps; a reused id with another body is refused.
    again = act(api, "RV-1", "ann", ref="POS-1")
    assert (again.status, again.body) == (200, first.body)
    refused(api, lambda: act(api, "RV-1", "ann", ref="POS-2"), 409, "idempotency-mismatch")
    refused(api, lambda: act(api, "RV-1", "ann"), 409, "idempotency-mismatch")

    entries = api.ledger("ann")
    assert [(e["kind"], e["amount"], e["rule"], e["source"]["id"]) for e in reversed(entries)] == [
        ("action", 20, "action:review", i) for i in ("RV-1", "RV-2", "RV-3", "RV-4")]
    points = api.points("ann")
    assert points["available"] == sum(e["amount"] for e in entries) == 80
    assert points["lifetime_earned"] == 80
    verified = api.verify("ann")
    assert verified["chain_valid"] and verified["balances_match"]
    mine = api.call("GET", "/v1/members/me/actions", as_="ann")
    assert mine.status == 200 and mine.body["actions"][0]["lifetime"] == 4


def test_members_check_in_once_a_local_day_in_the_programmes_time_zone(api: Api, clock: FixedClock) -> None:
    publish(api, timezone="Asia/Tokyo", actions={"check_in": {"points": 2, "per_day": 5}})
    api.chain("ben")
    # 09:30 UTC is 18:30 on the 23rd in Tokyo
    first = check_in(api, "ben")
    assert first.status == 201, first.body
    assert (first.body["action_id"], first.body["points"]) == ("check_in/2026-11-23", 2)
    assert (first.body["entry"]["rule"], first.body["entry"]["source"]) == (
        "action:check_in", {"type": "action", "id": "check_in/2026-11-23"})
    refused(api, lambda: check_in(api, "ben"), 409, "action-capped")  # once a day, whatever per_day says
    refused(api, lambda: check_in(api, "ben", {}), 409, "action-capped")
    clock.advance(5 * HOUR)  # 14:30 UTC: 23:30 in Tokyo, still the 23rd
    refused(api, lambda: check_in(api, "ben"), 409, "action-capped")
    clock.advance(HOUR)  # 15:30 UTC, still the 23rd in UTC: 00:30 on the 24th in Tokyo
    second = check_in(api, "ben", {})
    assert second.status == 201 and second.body["action_id"] == "check_in/2026-11-24"
    refused(api, lambda: check_in(api, "ben"), 409, "action-capped")
    assert api.points("ben")["available"] == 4
    assert standing(api, "ben", "check_in")["this_month"] == 2
    refused(api, lambda: check_in(api, "ben", {"day": "2026-11-25"}), 422, "validation-error")
    verified = api.verify("ben")
    assert verified["chain_valid"] and verified["balances_match"]


def test_a_check_in_caps_per_month_too(api: Api, clock: FixedClock) -> None:
    publish(api, actions={"check_in": {"points": 1, "per_month": 2}})
    api.chain("cat")
    assert check_in(api, "cat").status == 201
    clock.advance(DAY)
    assert check_in(api, "cat").status == 201
    clock.advance(DAY)
    refused(api, lambda: check_in(api, "cat"), 409, "action-capped")
    assert api.points("cat")["available"] == 2


def test_unknown_actions_members_and_bad_bodies_are_refused_and_write_nothing(api: Api) -> None:
    api.chain("dan")
    refused(api, lambda: act(api, "X-1", "dan"), 422, "unknown-action")  # a fresh install defines no action
    refused(api, lambda: check_in(api, "dan"), 422, "unknown-action")
    publish(api, actions={"review": {"points": 20}})
    refused(api, lambda: act(api, "X-1", "dan", "share"), 422, "unknown-action")
    refused(api, lambda: check_in(api, "dan"), 422, "unknown-action")
    refused(api, lambda: act(api, "X-1", "nobody"), 404, "not-found")
    for bad in ({"ref": "x" * 201}, {"ref": "line\nbreak"}, {"ref": ""}, {"action": "Review"}, {"points": 5},
                {"action_id": "has space"}):
        body = {"action_id": "X-2", "member_id": "dan", "action": "review", **bad}
        refused(api, lambda b=body: api.call("POST", "/v1/actions", b, **STAFF), 422, "validation-error")
    refused(api, lambda: api.call("POST", "/v1/actions", {"action_id": "X-3", "member_id": "dan", "action": "review"},
                                  as_="dan"), 403, "forbidden")  # a member cannot credit themself
    till = "Bearer " + api.gateway.mint("till-7", [], scope="loyalty/pos")["token"]
    refused(api, lambda: api.call("POST", "/v1/members/me/check-ins", headers={"Authorization": till}), 403,
            "forbidden")  # the till is no member
    assert act(api, "X-4", "dan", ref="https://example.com/review/1").status == 201
    by_till = api.call("POST", "/v1/actions", {"action_id": "X-5", "member_id": "dan", "action": "review"},
                       headers={"Authorization": till})
    assert by_till.status == 201
    publish(api, actions={"check_in": {"points": 1}})
    refused(api, lambda: check_in(api, "stranger"), 404, "not-found")  # signed in, not a member yet
    refused(api, lambda: act(api, "X-6", "dan"), 422, "unknown-action")  # review is gone from the programme


def test_an_action_worth_nothing_counts_and_posts_no_entry(api: Api) -> None:
    publish(api, actions={"share": {"points": 0, "per_day": 1}, "lead_converted": {"points": 100}})
    api.chain("eva")
    shared = act(api, "SH-1", "eva", "share", ref="https://example.com/p/1")
    assert (shared.status, shared.body) == (201, {"action_id": "SH-1", "points": 0, "entry": None})
    assert act(api, "SH-1", "eva", "share", ref="https://example.com/p/1").body == shared.body
    refused(api, lambda: act(api, "SH-2", "eva", "share"), 409, "action-capped")
    assert api.ledger("eva") == []
    lead = act(api, "LEAD-1", "eva", "lead_converted")  # staff credit converted leads until issue 15
    assert lead.status == 201 and lead.body["entry"]["rule"] == "action:lead_converted"
    assert api.points("eva")["available"] == 100
    standings = {a["action"]: a for a in api.call("GET", "/v1/members/me/actions", as_="eva").body["actions"]}
    assert (standings["share"]["today"], standings["lead_converted"]["lifetime"]) == (1, 1)
    assert api.call("GET", "/v1/members/nobody/actions", **STAFF).status == 404

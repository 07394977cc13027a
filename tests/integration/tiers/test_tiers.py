"""Tiers and statuses over HTTP (API-additions "Tiers and status (会员卡)", docs/earning-tiers.md): a member reaches
gold with the purchase that qualifies (which already earns gold's multiplier, while referrers earn from the base),
keeps gold through a refund until the review, and is reviewed down a year on; five qualified referrals make a
shareholder and a full refund of one referee's only purchase takes it away; the highest of tier, status and calendar
multipliers wins; every refusal writes nothing; a plain programme's member read and purchase are unchanged."""

from __future__ import annotations

from typing import Any

from loyalty.shared.clock import FixedClock
from tests.support import Api, CallAs, dump_tables

ADMIN: CallAs = {"as_": "boss", "groups": ("admin",)}
STAFF: CallAs = {"as_": "pos", "groups": ("staff",)}
PLAIN = {"points_per_currency_unit": 1, "referral_rates_bps": [1000, 500], "hold_days": 0, "currency": "CNY"}
SILVER = {"tier": "silver", "min_spend_12m_minor": 100000, "discount_bps": 500, "points_multiplier_bps": 10000}
GOLD = {"tier": "gold", "min_spend_12m_minor": 500000, "discount_bps": 1500, "points_multiplier_bps": 12000}
SHAREHOLDER = {"status": "shareholder", "min_qualified_referrals": 5, "points_multiplier_bps": 15000}
DAY = 86_400


def publish(api: Api, tiers: list[dict[str, Any]] | None = None, statuses: list[dict[str, Any]] | None = None,
            **earning: Any) -> dict[str, Any]:
    program = api.call("PUT", "/v1/program", {**PLAIN, **earning}, **ADMIN)
    assert program.status == 200, program.body
    reply = api.call("PUT", "/v1/tiers", {"tiers": tiers if tiers is not None else [SILVER, GOLD],
                                          "statuses": statuses if statuses is not None else [SHAREHOLDER]}, **ADMIN)
    assert reply.status == 200, reply.body
    return dict(reply.body)


def member(api: Api, member_id: str) -> dict[str, Any]:
    reply = api.call("GET", f"/v1/members/{member_id}", **STAFF)
    assert reply.status == 200, reply.body
    return dict(reply.body)


def bought(api: Api, order_id: str, member_id: str, amount_minor: int, **extra: Any) -> dict[str, Any]:
    reply = api.purchase(order_id, member_id, amount_minor, **extra)
    assert reply.status == 201, reply.body
    return dict(reply.body)


def credits(body: dict[str, Any]) -> list[tuple[str, int]]:
    return [(c["member_id"], c["points"]) for c in body["credits"]]


def test_tiers_are_a_programme_version_and_everything_else_is_kept(api: Api) -> None:
    api.call("PUT", "/v1/program", {**PLAIN, "multipliers": [{"name": "Member day", "day_of_month": 8,
                                                              "bps": 30000}]}, **ADMIN)
    before = api.call("GET", "/v1/program", as_="x").body
    published = api.call("PUT", "/v1/tiers", {"tiers": [SILVER, GOLD], "statuses": [SHAREHOLDER],
                                                               "version": before["version"]}, **ADMIN)
    assert published.status == 200, published.body
    assert published.body == {"version": before["version"] + 1, "tiers": [SILVER, GOLD],
                                 "statuses": [SHAREHOLDER]}
    assert api.call("GET", "/v1/tiers", **ADMIN).body == published.body
    after = api.call("GET", "/v1/program", as_="x").body
    assert {k: v for k, v in after.items() if k != "version"} == {k: v for k, v in before.items() if k != "version"}
    # the programme's own PUT keeps the tiers (a key its body leaves out)
    api.call("PUT", "/v1/program", PLAIN, **ADMIN)
    assert api.call("GET", "/v1/tiers", **ADMIN).body["tiers"] == [SILVER, GOLD]
    cleared = api.call("PUT", "/v1/tiers", {"tiers": [], "statuses": []}, **ADMIN)
    assert (cleared.status, cleared.body["tiers"], cleared.body["statuses"]) == (200, [], [])


def test_gold_with_the_qualifying_purchase_kept_through_a_refund_and_reviewed_a_year_on(
        api: Api, clock: FixedClock) -> None:
    publish(api)
    api.chain("alice", "bob")
    first = bought(api, "O-1", "bob", 400000)
    assert credits(first) == [("bob", 4000), ("alice", 400)] and "multiplier" not in first  # silver: ×1
    shown = member(api, "bob")["tier"]
    assert shown == {"tier": "silver", "since": "2026-11-23T09:30:00Z", "review_at": "2027-11-23T09:30:00Z",
                     "discount_bps": 500, "points_multiplier_bps": 10000, "spend_12m_minor": 400000,
                     "next": {"tier": "gold", "spend_needed_minor": 100000}}

    clock.advance(DAY)
    gold = bought(api, "O-2", "bob", 200000)  # reaches 600000: this purchase already earns gold's multiplier
    assert gold["multiplier"] == {"name": "gold", "bps": 12000}
    assert credits(gold) == [("bob", 2400), ("alice", 200)]  # alice's from the base (2000 points)
    own = api.ledger("bob")[0]
    assert (own["amount"], own["rule"], own["multiplier_bps"]) == (2400, "tier:gold", 12000)
    assert api.purchase("O-2", "bob", 200000).body == gold  # a replay answers the same and counts nothing twice
    tier = member(api, "bob")["tier"]
    assert (tier["tier"], tier["since"], tier["review_at"]) == ("gold", "2026-11-24T09:30:00Z",
                                                                "2027-11-24T09:30:00Z")
    assert (tier["spend_12m_minor"], tier["next"], tier["discount_bps"]) == (600000, None, 1500)

    clock.advance(30 * DAY)  # December: the spend that the review will count
    bought(api, "O-3", "bob", 550000)
    refund = api.refund("O-3", "R-1", 100000)
    assert refund.status == 201, refund.body
    tier = member(api, "bob")["tier"]
    assert (tier["tier"], tier["spend_12m_minor"]) == ("gold", 1050000)  # no downgrade before the review
    assert api.refund("O-2", "R-2", 200000).status == 201  # even a full refund of the qualifying purchase
    assert member(api, "bob")["tier"]["tier"] == "gold"

    clock.advance(334 * DAY)  # 2027-11-23: the day before the review, still gold
    assert bought(api, "O-4", "bob", 1000)["multiplier"] == {"name": "gold", "bps": 12000}
    clock.advance(DAY + 60)  # past the review: the trailing months hold 450000 + 1000: silver, read-time exact
    tier = member(api, "bob")["tier"]
    assert tier == {"tier": "silver", "since": "2027-11-24T09:30:00Z", "review_at": "2028-11-24T09:30:00Z",
                    "discount_bps": 500, "points_multiplier_bps": 10000, "spend_12m_minor": 451000,
                    "next": {"tier": "gold", "spend_needed_minor": 49000}}
    after = bought(api, "O-5", "bob", 1000)
    assert "multiplier" not in after and credits(after)[0] == ("bob", 10)
    for holder in ("alice", "bob"):
        checked = api.verify(holder)
        assert checked["chain_valid"] and checked["balances_match"], checked


def test_five_qualified_referrals_make_a_shareholder_and_a_full_refund_takes_it_away(api: Api) -> None:
    publish(api)
    carol = api.sign_up("carol")
    for n in range(1, 6):
        api.sign_up(f"ref{n}", carol["referral_code"])
    for n in range(1, 5):
        bought(api, f"O-{n}", f"ref{n}", 10000)
    bought(api, "O-4b", "ref4", 10000)  # a second purchase: still one qualified referral
    assert member(api, "carol")["statuses"] == []
    bought(api, "O-5", "ref5", 10000)
    assert member(api, "carol")["statuses"] == ["shareholder"]
    mine = bought(api, "O-c1", "carol", 10000)
    assert mine["multiplier"] == {"name": "shareholder", "bps": 15000} and credits(mine) == [("carol", 150)]

    assert api.refund("O-4", "R-4", 10000).status == 201  # ref4 keeps one purchase: still qualified
    assert api.refund("O-3", "R-3", 5000).status == 201  # a partial refund: still qualified
    assert member(api, "carol")["statuses"] == ["shareholder"]
    assert api.refund("O-5", "R-5", 10000).status == 201  # ref5's only purchase, all of it
    assert member(api, "carol")["statuses"] == []
    assert "multiplier" not in bought(api, "O-c2", "carol", 10000)
    bought(api, "O-5b", "ref5", 10000)  # ref5 buys again: qualified again
    assert member(api, "carol")["statuses"] == ["shareholder"]


def test_the_highest_of_tier_status_and_calendar_wins_and_referrers_earn_from_the_base(
        api: Api, clock: FixedClock) -> None:
    publish(api, tiers=[{**GOLD, "min_spend_12m_minor": 100}],
            statuses=[{**SHAREHOLDER, "min_qualified_referrals": 1}],
            multipliers=[{"name": "Member day", "day_of_month": 24, "bps": 30000}])
    api.chain("dora", "eve", "finn")
    bought(api, "O-f", "finn", 1000)  # eve: one qualified referral → shareholder
    tiered = bought(api, "O-e1", "eve", 1000)  # gold (12000) and shareholder (15000): shareholder
    assert tiered["multiplier"] == {"name": "shareholder", "bps": 15000}
    assert credits(tiered) == [("eve", 15), ("dora", 1)]
    clock.advance(DAY)  # the 24th in Shanghai: member day (30000) beats both
    calendar = bought(api, "O-e2", "eve", 1000)
    assert calendar["multiplier"] == {"name": "Member day", "bps": 30000}
    assert credits(calendar) == [("eve", 30), ("dora", 1)]
    assert api.ledger("eve")[0]["rule"] == "calendar:Member day"


def test_every_refusal_writes_nothing(api: Api) -> None:
    publish(api)
    before = dump_tables()
    bad_bodies: list[Any] = [
        {"tiers": [SILVER, {**GOLD, "tier": "silver"}], "statuses": []},
        {"tiers": [GOLD, SILVER], "statuses": []},
        {"tiers": [SILVER, {**GOLD, "min_spend_12m_minor": 100000}], "statuses": []},
        {"tiers": [{**SILVER, "discount_bps": 10001}], "statuses": []},
        {"tiers": [{**SILVER, "points_multiplier_bps": 100001}], "statuses": []},
        {"tiers": [{**SILVER, "discount_bps": -1}], "statuses": []},
        {"tiers": [], "statuses": [SHAREHOLDER, SHAREHOLDER]},
        {"tiers": [], "statuses": [{**SHAREHOLDER, "min_qualified_referrals": 0}]},
        {"tiers": [{**SILVER, "tier": f"t{n}", "min_spend_12m_minor": n} for n in range(11)], "statuses": []},
        {"tiers": [SILVER]}, {"tiers": [SILVER], "statuses": [], "extra": 1}, {"tiers": "gold", "statuses": []},
        {"tiers": [{**SILVER, "tier": ""}], "statuses": []}, [],
    ]
    for body in bad_bodies:
        reply = api.call("PUT", "/v1/tiers", body, **ADMIN)
        assert (reply.status, reply.slug) == (422, "validation-error"), (body, reply.body)
    stale = api.call("PUT", "/v1/tiers", {"tiers": [], "statuses": [], "version": 1}, **ADMIN)
    assert (stale.status, stale.slug) == (409, "version-conflict")
    for caller in (STAFF, {"as_": "someone"}):
        assert api.call("PUT", "/v1/tiers", {"tiers": [], "statuses": []}, **caller).status == 403
        assert api.call("GET", "/v1/tiers", **caller).status == 403
    assert api.call("GET", "/v1/tiers").status == 401
    assert dump_tables() == before
    api.sign_up("gus")
    after_sign_up = dump_tables()
    assert api.purchase("O-x", "gus", 1000, currency="USD").status == 422  # a refused purchase: no standing
    assert api.purchase("O-y", "nobody", 1000).status == 404
    assert api.refund("O-none", "R-1", 10).status == 404
    assert dump_tables() == after_sign_up
    assert after_sign_up["EarningTable"] == before["EarningTable"] == []


def test_a_plain_programmes_member_read_and_purchase_are_unchanged(api: Api) -> None:
    api.call("PUT", "/v1/program", PLAIN, **ADMIN)
    api.chain("hal", "ivy")
    plain = bought(api, "O-1", "ivy", 12900)
    assert "multiplier" not in plain and credits(plain) == [("ivy", 129), ("hal", 12)]
    shown = member(api, "ivy")
    assert "tier" not in shown and "statuses" not in shown
    assert api.refund("O-1", "R-1", 12900).status == 201
    assert dump_tables()["EarningTable"] == []  # no standing read or written
    publish(api)  # with tiers, then without them again: the member read drops the fields
    assert member(api, "ivy")["tier"]["tier"] is None
    api.call("PUT", "/v1/tiers", {"tiers": [], "statuses": []}, **ADMIN)
    assert "tier" not in member(api, "ivy")


def test_a_refund_after_the_review_date_never_downgrades_before_the_next_review(api: Api, clock: FixedClock) -> None:
    """The review that fell due judges the spend as it stood at review_at; a refund recorded after it, of a purchase
    that counted at the review, takes its amount off without reviewing the tier again (found in review: the refund
    used to save the months without applying the due review, so the next read reviewed with the refund taken off)."""
    publish(api, tiers=[{**GOLD, "min_spend_12m_minor": 5_000, "points_multiplier_bps": 20_000}], statuses=[])
    api.chain("alice")
    bought(api, "A-1", "alice", 6_000)  # gold, reviewed a year on
    clock.advance(300 * DAY)
    bought(api, "A-2", "alice", 5_000)  # within the twelve months the review will look at
    clock.advance(70 * DAY)  # past review_at: kept gold (A-2 counts), reviewed again a year later
    reviewed = member(api, "alice")["tier"]
    assert reviewed["tier"] == "gold"
    assert api.refund("A-2", "R-1", 5_000).status == 201
    after = member(api, "alice")["tier"]
    assert (after["tier"], after["review_at"]) == ("gold", reviewed["review_at"])
    assert bought(api, "A-3", "alice", 1_000)["multiplier"] == {"name": "gold", "bps": 20_000}

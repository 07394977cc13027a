"""``GET /v1/metrics``: the figures equal what the tables say, computed by brute force, after a random mix of
sign-ups, purchases (back-dated too), refunds, redemptions and adjustments; each event counts once however
often and in whatever order the streams deliver it; bad periods and callers are refused."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from localdev.jobs import STREAMS_ENDPOINT
from loyalty.shared.clock import FixedClock, parse_rfc3339, to_rfc3339
from loyalty.shared.dynamo import from_item
from tests.support import Api, dump_tables

SHANGHAI = ZoneInfo("Asia/Shanghai")
STAFF = {"as_": "pos", "groups": ("staff",)}
DAY = 86400


def figures(api: Api, query: str = "from=2026-11-01&to=2026-11-30") -> dict[str, Any]:
    reply = api.call("GET", f"/v1/metrics?{query}", **STAFF)  # type: ignore[arg-type]
    assert reply.status == 200, reply.body
    return dict(reply.body)


def scan(table: str) -> Iterator[dict[str, Any]]:
    client, kwargs = boto3.client("dynamodb"), {"TableName": table}
    while True:
        page = client.scan(**kwargs)
        yield from (from_item(i) for i in page["Items"])
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def local(instant: str) -> str:
    return parse_rfc3339(instant).astimezone(SHANGHAI).date().isoformat()


def brute_force(first: str, last: str) -> dict[str, Any]:
    """The period's figures straight from the Members, Operations and Ledger tables, by their definitions
    (docs/metrics.md), sharing no code with the aggregator."""
    members = [m for m in scan("MembersTable") if m["sk"] == "PROFILE"]
    referred = {m["member_id"] for m in members if m.get("ancestors")}
    operations = list(scan("OperationsTable"))
    refunded: dict[str, int] = {}
    for op in operations:
        if op["pk"].startswith("refund/"):
            refunded[op["order_id"]] = refunded.get(op["order_id"], 0) + op["amount_minor"]
    sales = [(op["pk"].removeprefix("purchase/"), op["member_id"], local(op["occurred_at"]),
              op["amount_minor"] - refunded.get(op["pk"].removeprefix("purchase/"), 0))
             for op in operations if op["pk"].startswith("purchase/")]
    inside = [s for s in sales if first <= s[2] <= last]
    buyers = {s[1] for s in inside}
    repeat = {b for b in buyers if sum(1 for s in inside if s[1] == b) > 1
              or any(s[1] == b and s[2] < first for s in sales)}
    revenue = sum(s[3] for s in inside)
    from_referred = sum(s[3] for s in inside if s[1] in referred)
    entries = list(scan("LedgerTable"))
    points = [(local(e["created_at"]), e["kind"], e["amount"]) for e in entries if e["asset"] == "points"]
    ruled = [(local(e["created_at"]), e.get("rule") or "", e["amount"]) for e in entries if e["asset"] == "points"]
    owed = sum(e["amount"] for e in entries if e["asset"] == "commission" and local(e["created_at"]) <= last)
    stored = [(local(e["created_at"]), e["kind"], e["bucket"], e["amount"]) for e in entries
              if e["asset"] == "stored_value"]
    uses = [(local(e["created_at"]), e["kind"], e["amount"]) for e in entries if e["asset"].startswith("bundle:")]

    def moved(kind: str, bucket: str | None = None) -> int:
        return abs(sum(a for d, k, b, a in stored if first <= d <= last and k == kind and bucket in (None, b)))

    days = [(date.fromisoformat(first) + timedelta(days=n)).isoformat()
            for n in range((date.fromisoformat(last) - date.fromisoformat(first)).days + 1)]
    return {
        "members": {"total": sum(1 for m in members if local(m["joined_at"]) <= last),
                    "new": sum(1 for m in members if first <= local(m["joined_at"]) <= last)},
        "purchases": {"count": len(inside), "buyers": len(buyers), "revenue_minor": revenue},
        "repeat_purchase_rate_bps": len(repeat) * 10000 // len(buyers) if buyers else 0,
        "referred_revenue_share_bps": from_referred * 10000 // revenue if revenue > 0 else 0,
        "points": {"issued": sum(a for d, k, a in points
                                 if first <= d <= last and k not in ("redemption", "release", "expiry")),
                   "redeemed": -sum(a for d, k, a in points if first <= d <= last and k == "redemption"),
                   "expired": -sum(a for d, k, a in points if first <= d <= last and k == "expiry"),
                   "outstanding": sum(a for d, _, a in points if d <= last),
                   "from_actions": sum(a for d, r, a in ruled if first <= d <= last and r.startswith("action:")),
                   "from_surprises": sum(a for d, r, a in ruled if first <= d <= last and r == "surprise")},
        "commission": {"outstanding_minor": owed},
        "stored_value": {
            "outstanding_principal_minor": sum(a for d, _, b, a in stored if d <= last and b == "principal"),
            "outstanding_bonus_minor": sum(a for d, _, b, a in stored if d <= last and b == "bonus"),
            "topped_up_minor": moved("top_up", "principal"), "bonus_given_minor": moved("top_up", "bonus"),
            "paid_minor": moved("payment"), "refunded_minor": moved("refund"),
            "withdrawn_minor": moved("withdrawal", "principal"), "bonus_forfeited_minor": moved("withdrawal", "bonus")},
        "bundles": {"outstanding_uses": sum(a for d, _, a in uses if d <= last),
                    **{name: abs(sum(a for d, k, a in uses if first <= d <= last and k == kind))
                       for name, kind in (("sold_uses", "bundle_sale"), ("used", "bundle_use"),
                                          ("refunded_uses", "refund"))}},
        "by_day": [{"date": d, "purchases": sum(1 for s in inside if s[2] == d),
                    "revenue_minor": sum(s[3] for s in inside if s[2] == d),
                    "new_members": sum(1 for m in members if local(m["joined_at"]) == d)} for d in days],
        "time_zone": "Asia/Shanghai",
    }


def balances_total() -> int:
    """All members' available + pending points as the accounts hold them (what ``make verify`` totals)."""
    total = 0
    for account in scan("AccountsTable"):
        buckets = account.get("balances", {}).get("points", {}).get("buckets", {})
        total += buckets.get("available", 0) + buckets.get("pending", 0)
    return total


def bundle_step(api: Api, rng: random.Random, step: int, members: list[str], cards: list[str]) -> None:
    """A bundle card sold, used or refunded for its unused uses (409 when none are left: fine)."""
    staff: dict[str, Any] = {"as_": "pos", "groups": ("staff",)}
    if not cards or rng.random() < 0.3:
        sale = {"sale_id": f"S-{step}", "member_id": rng.choice(members), "product_id": "WASH-3"}
        reply = api.call("POST", "/v1/bundle-sales", sale, **staff)
        assert reply.status == 201, reply.body
        cards.append(reply.body["card_id"])
        return
    how = "refunds" if rng.random() < 0.2 else "uses"
    sent = {"refund_id": f"BR-{step}"} if how == "refunds" else {"use_id": f"U-{step}"}
    reply = api.call("POST", f"/v1/bundle-cards/{rng.choice(cards)}/{how}", sent, **staff)
    assert reply.status == 201 or reply.slug in ("bundle-used-up", "bundle-expired"), reply.body


def credit_step(api: Api, rng: random.Random, step: int, members: list[str], action: str) -> None:
    """An adjustment either way (by an admin) or an action's points (by the till)."""
    if action == "adjust":
        body = {"adjustment_id": f"A-{step}", "member_id": rng.choice(members), "points": rng.choice([-30, 7, 100]),
                "reason": "goodwill"}
        assert api.call("POST", "/v1/adjustments", body, as_="boss", groups=("admin",)).status == 201
        return
    body = {"action_id": f"ACT-{step}", "member_id": rng.choice(members), "action": "review"}
    assert api.call("POST", "/v1/actions", body, as_="pos", groups=("staff",)).status == 201


def random_mix(api: Api, clock: FixedClock, rng: random.Random, steps: int) -> None:
    """Sign-ups (most under a referrer), purchases (some back-dated by days, at any hour), partial and full
    refunds, redemptions, adjustments, stored value, bundle cards and moves of the clock."""
    members: list[tuple[str, str]] = []  # (member id, referral code)
    orders: dict[str, int] = {}  # order → what is left to refund
    cards: list[str] = []
    api.call("PUT", "/v1/bundles/WASH-3", {"name": "3 washes", "uses": 3, "price_minor": 9000, "valid_days": 30},
             as_="boss", groups=("admin",))
    # the earning rules whose figures are counted apart: actions, surprises, and points that expire after a month
    assert api.call("PUT", "/v1/program", {
        "points_per_currency_unit": 1, "referral_rates_bps": [1000, 500, 200], "hold_days": 7, "currency": "CNY",
        "actions": {"review": {"points": 15}}, "expiry": {"months": 1},
        "surprise": {"chance_bps": 3000, "min_points": 5, "max_points": 20, "daily_budget": 100}},
        as_="boss", groups=("admin",)).status == 200
    for step in range(steps):
        action = rng.choices(["join", "buy", "refund", "redeem", "adjust", "wait", "top_up", "withdraw", "bundle",
                              "act"], [3, 6, 2, 2, 1, 2, 2, 1, 3, 1])[0]
        if action == "join" or len(members) < 2:
            code = rng.choice(members)[1] if members and rng.random() < 0.7 else None
            joined = api.sign_up(f"m{step}", code)
            members.append((joined["member_id"], joined["referral_code"]))
        elif action == "buy":
            order, amount = f"O-{step}", rng.choice([99, 1000, 12900, 55500])
            occurred = clock.now() - timedelta(seconds=rng.randrange(0, 10 * DAY))
            paying = {"stored_value_minor": rng.choice([amount, max(1, amount // 3)])} if rng.random() < 0.3 else {}
            reply = api.purchase(order, rng.choice(members)[0], amount, occurred_at=to_rfc3339(occurred), **paying)
            assert reply.status == 201 or reply.slug == "insufficient-funds", reply.body
            if reply.status == 201:
                orders[order] = amount
        elif action == "refund" and orders:
            order = rng.choice(sorted(orders))
            if orders[order]:
                amount = rng.choice([orders[order], max(1, orders[order] // 3)])
                assert api.refund(order, f"R-{step}", amount).status == 201
                orders[order] -= amount
        elif action == "redeem":
            api.redeem(rng.choice(members)[0], rng.choice([1, 10, 50]), f"k-{step}")  # 409 when short: fine
        elif action in ("adjust", "act"):
            credit_step(api, rng, step, [m for m, _ in members], action)
        elif action == "top_up":
            body = {"top_up_id": f"T-{step}", "member_id": rng.choice(members)[0],
                    "amount_minor": rng.choice([5000, 200000, 300000]), "currency": "CNY"}
            reply = api.call("POST", "/v1/top-ups", body, as_="pos", groups=("staff",))
            assert reply.status == 201 or reply.slug == "stored-value-cap", reply.body
        elif action == "bundle":
            bundle_step(api, rng, step, [m for m, _ in members], cards)
        elif action == "withdraw":
            reply = api.call("POST", f"/v1/members/{rng.choice(members)[0]}/stored-value/withdrawals",
                             {"withdrawal_id": f"W-{step}"}, as_="boss", groups=("admin",))
            assert reply.status == 201, reply.body
        else:
            clock.advance(rng.choice([3 * 3600, DAY, 3 * DAY, 8 * DAY]))
            api.tick()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_figures_are_what_the_tables_say(api: Api, clock: FixedClock, seed: int) -> None:
    rng = random.Random(seed)
    random_mix(api, clock, rng, 45)
    today = parse_rfc3339(to_rfc3339(clock.now())).astimezone(SHANGHAI).date()
    periods = [(today - timedelta(days=29), today), (today - timedelta(days=3), today), (today, today)]
    for _ in range(3):
        start = today - timedelta(days=rng.randrange(0, 25))
        periods.append((start, start + timedelta(days=rng.randrange(0, 6))))
    for first, last in periods:
        expected = brute_force(first.isoformat(), last.isoformat())
        assert figures(api, f"from={first}&to={last}") == expected, (first, last)
    assert figures(api, "")["points"]["outstanding"] == balances_total()


def test_the_story_in_figures(api: Api, clock: FixedClock) -> None:
    api.chain("bob", "carol", "dan")
    api.sign_up("erin")
    assert api.purchase("O-1", "dan", 12900).status == 201  # 2026-11-23 17:30 in Shanghai
    assert api.purchase("O-2", "erin", 5000).status == 201
    assert api.purchase("O-3", "erin", 1000, occurred_at="2026-11-20T09:30:00Z").status == 201  # back-dated
    assert api.refund("O-1", "R-1", 2100).status == 201
    clock.advance(8 * DAY)
    assert api.redeem("dan", 100, "k-1").status == 201
    shown = figures(api, "from=2026-11-21&to=2026-12-01")
    assert shown["members"] == {"total": 4, "new": 4}
    assert shown["purchases"] == {"count": 2, "buyers": 2, "revenue_minor": 10800 + 5000}
    assert shown["repeat_purchase_rate_bps"] == 5000  # erin bought before the period, dan did not
    assert shown["referred_revenue_share_bps"] == 10800 * 10000 // 15800  # dan has a referrer, erin none
    issued = 129 + 12 + 6 + 50 + 10 - 21 - 1  # purchases and referrals, less the refund's reversals
    assert shown["points"] == {"issued": issued, "redeemed": 100, "expired": 0, "outstanding": issued - 100,
                               "from_actions": 0, "from_surprises": 0}  # no earning rules in this story
    assert [d["date"] for d in shown["by_day"]][:2] == ["2026-11-21", "2026-11-22"] and len(shown["by_day"]) == 11
    assert shown["by_day"][2] == {"date": "2026-11-23", "purchases": 2, "revenue_minor": 15800, "new_members": 4}
    assert shown["points"]["outstanding"] == balances_total()
    earlier = figures(api, "from=2026-11-20&to=2026-11-20")
    assert earlier["purchases"] == {"count": 1, "buyers": 1, "revenue_minor": 1000}
    assert earlier["members"] == {"total": 0, "new": 0}  # nobody had joined yet: the purchase is back-dated
    assert earlier["repeat_purchase_rate_bps"] == 0 and earlier["points"]["outstanding"] == 0


def test_without_a_period_the_figures_are_of_the_30_days_ending_today(api: Api) -> None:
    api.sign_up("dan")
    shown = figures(api, "")
    assert (shown["by_day"][0]["date"], shown["by_day"][-1]["date"], len(shown["by_day"])) == (
        "2026-10-25", "2026-11-23", 30)
    assert figures(api, "to=2026-11-23") == shown == figures(api, "from=2026-10-25")


@pytest.mark.parametrize("query", [
    "from=2026-11-02&to=2026-11-01", "from=2025-01-01&to=2026-11-01", "from=2026-11-31", "to=23-11-2026",
    "from=2026-11-01T00:00:00Z", "from=", "from=%00", "to=" + "9" * 11,
])
def test_a_period_that_is_no_period_is_refused_and_writes_nothing(api: Api, query: str) -> None:
    before = dump_tables()
    reply = api.call("GET", f"/v1/metrics?{query}", **STAFF)  # type: ignore[arg-type]
    assert (reply.status, reply.slug) == (422, "validation-error"), reply.body
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.body["errors"][0]["loc"][0] == "query"
    assert dump_tables() == before


def test_members_may_not_read_the_shops_figures(api: Api) -> None:
    api.sign_up("dan")
    reply = api.call("GET", "/v1/metrics", as_="dan")
    assert (reply.status, reply.slug) == (403, "forbidden")
    assert api.call("GET", "/v1/metrics", as_="boss", groups=("admin",)).status == 200


# --- exactly once, whatever the streams do --------------------------------------------------------------

def stream_records(table: str) -> list[dict[str, Any]]:
    """Every record of a table's stream, as Lambda hands them to a function."""
    arn = boto3.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", endpoint_url=STREAMS_ENDPOINT)
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator)
            records += [{**r, "eventSourceARN": arn} for r in page["Records"]]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return records


def wipe_figures() -> None:
    client = boto3.client("dynamodb")
    for item in scan("MetricsTable"):
        client.delete_item(TableName="MetricsTable", Key={"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}})


def deliver(api: Api, records: list[dict[str, Any]]) -> None:
    from functions.aggregator.app import handler

    assert api.gateway.run(handler, {"Records": records}, "AggregatorFunction") == {"batchItemFailures": []}


@pytest.mark.parametrize("seed", [7, 8])
def test_redelivered_and_reordered_records_count_once(api: Api, clock: FixedClock, seed: int) -> None:
    rng = random.Random(seed)
    random_mix(api, clock, rng, 30)
    queries = ["from=2026-11-01&to=2026-12-31", "from=2026-11-20&to=2026-11-24", ""]
    shown = [figures(api, q) for q in queries]
    records = [r for t in ("MembersTable", "OperationsTable", "LedgerTable") for r in stream_records(t)]
    assert len(records) > 30

    deliver(api, records)  # everything again, as after a crash before the checkpoint
    assert [figures(api, q) for q in queries] == shown

    wipe_figures()  # from nothing: every record twice or more, shuffled, in batches of any size
    again = records + rng.sample(records, len(records) // 2) + rng.sample(records, len(records) // 3)
    rng.shuffle(again)
    while again:
        size = rng.randrange(1, 60)
        deliver(api, again[:size])
        again = again[size:]
    assert [figures(api, q) for q in queries] == shown


def test_a_purchase_back_dated_before_a_buyers_first_moves_their_first_day(api: Api) -> None:
    api.sign_up("dan")
    assert api.purchase("O-1", "dan", 1000, occurred_at="2026-11-22T09:30:00Z").status == 201
    assert figures(api, "from=2026-11-22&to=2026-11-22")["repeat_purchase_rate_bps"] == 0
    assert api.purchase("O-2", "dan", 1000, occurred_at="2026-11-10T09:30:00Z").status == 201
    assert figures(api, "from=2026-11-22&to=2026-11-22")["repeat_purchase_rate_bps"] == 10000  # bought before
    assert figures(api, "from=2026-11-10&to=2026-11-10")["repeat_purchase_rate_bps"] == 0
    firsts = [i for i in scan("MetricsTable") if i["pk"].startswith("FIRSTS#")]
    assert [(i["pk"], i["sk"]) for i in firsts] == [("FIRSTS#2026-11", "2026-11-10#dan")]


def test_a_record_that_cannot_be_read_is_left_out_and_the_rest_is_counted(api: Api) -> None:
    api.sign_up("dan")
    records = stream_records("MembersTable")
    profile = next(r for r in records if r["dynamodb"]["Keys"]["sk"]["S"] == "PROFILE")
    broken = {**profile, "dynamodb": {**profile["dynamodb"], "NewImage": {"pk": {"S": "M#x"}, "sk": {"S": "PROFILE"}}}}
    orphan = {**profile, "eventSourceARN": profile["eventSourceARN"].replace("MembersTable", "OperationsTable"),
              "dynamodb": {"Keys": {"pk": {"S": "refund/O-9/R-1"}}, "NewImage": {
                  "pk": {"S": "refund/O-9/R-1"}, "order_id": {"S": "O-9"}, "amount_minor": {"N": "5"}}}}
    wipe_figures()
    deliver(api, [broken, orphan, profile])
    assert figures(api)["members"] == {"total": 1, "new": 1}

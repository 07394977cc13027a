"""Surprise draws racing for one day's budget on AWS's own engine, from 8 processes at once
(docs/earning-surprise.md): 40 purchases at once, each a hit (chance 10000), with a budget that pays only some. The
budget's counter moves only under its own condition in each purchase's transaction: every purchase succeeds, the
paid total never passes the budget, it is exactly the sum of the paid draws (and of the buyers' bonus entries), and
no hit is paid in part; a hit left unpaid is one the budget could no longer pay in full.
"""

from __future__ import annotations

import time
from functools import partial

import pytest

from tests.concurrency.conftest import Service, report

pytestmark = pytest.mark.xdist_group("dynamodb-local")  # one DynamoDB Local per test process

BUYERS = 40
BUDGET = 500
RULE = {"chance_bps": 10_000, "min_points": 10, "max_points": 50, "daily_budget": BUDGET}


def test_forty_purchases_at_once_never_overspend_the_days_budget(service: Service) -> None:
    published = service.call("PUT", "/v1/program", {
        "points_per_currency_unit": 1, "referral_rates_bps": [1000], "hold_days": 0, "currency": "CNY",
        "surprise": RULE}, as_="boss", groups=("admin",))
    assert published.status == 200, published.body
    time.sleep(1.2)  # the containers keep the programme they read for a second (PROGRAM_CACHE_SECONDS)
    buyers = [service.sign_up(f"buyer-{n}")["member_id"] for n in range(BUYERS)]
    service.token("pos", "staff")
    replies = service.all_at_once([partial(service.purchase, f"O-{n}", buyers[n], 1_000) for n in range(BUYERS)])
    assert [r.status for r in replies] == [201] * BUYERS, [r.body for r in replies if r.status != 201]
    paid = {f"O-{n}": r.body["surprise"]["points"] for n, r in enumerate(replies) if "surprise" in r.body}
    assert 0 < len(paid) < BUYERS
    assert sum(paid.values()) <= BUDGET

    budget = service.db.get_item(TableName="EarningTable", Key={"pk": {"S": "SURPRISE#BUDGET"},
                                                                "sk": {"S": "2026-11-23"}})["Item"]
    assert int(budget["paid"]["N"]) == sum(paid.values())
    draws = service.db.query(TableName="EarningTable", KeyConditionExpression="pk = :p",
                             ExpressionAttributeValues={":p": {"S": "SURPRISE#DRAWS#2026-11-23"}})["Items"]
    assert len(draws) == BUYERS
    left = BUDGET - sum(paid.values())
    for d in draws:
        order, points, was_paid = d["sk"]["S"], int(d["points"]["N"]), d["paid"]["BOOL"]
        assert d["hit"]["BOOL"] and 10 <= points <= 50
        assert was_paid == (order in paid) and (paid[order] == points if was_paid else points > left), order
    for n, buyer in enumerate(buyers):
        bonus = [e["amount"] for e in service.ledger(buyer) if e["kind"] == "bonus"]
        assert bonus == ([paid[f"O-{n}"]] if f"O-{n}" in paid else []), buyer
        assert service.points(buyer)["available"] == 10 + paid.get(f"O-{n}", 0)
    report("surprise budget race", purchases=BUYERS, paid=len(paid), paid_points=sum(paid.values()),
           budget=BUDGET, busy=dict(service.busy))

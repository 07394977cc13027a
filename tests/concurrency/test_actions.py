"""Action caps on AWS's own engine, from 8 processes at once (docs/earning-actions.md): a cap is the condition of the
action's own transaction on its counter, so no race can pass it:

- 30 reviews of one member at once under ``per_day: 1``: exactly one credited, every other ``409 action-capped``;
- 30 reviews of one member under ``lifetime: 5`` (and ``per_day: 2``), raced 10 at a time on three local days:
  2, 2 and then 1 credited: exactly 5 for life;
- 20 check-ins of one member at once: one credited, every other ``409 action-capped``.

Each time the member's points are the credited actions' and nothing more, the counters say how many were credited,
and the chain verifies.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import pytest

from tests.concurrency.conftest import Reply, Service, report

pytestmark = pytest.mark.xdist_group("dynamodb-local")  # one DynamoDB Local per test process

STAFF = ("staff",)
PLAIN = {"points_per_currency_unit": 1, "referral_rates_bps": [1000, 500], "hold_days": 7, "currency": "CNY"}
DAY = 86_400


def publish(service: Service, actions: dict[str, Any]) -> None:
    reply = service.call("PUT", "/v1/program", {**PLAIN, "actions": actions}, as_="boss", groups=("admin",))
    assert reply.status == 200, reply.body


def review(service: Service, action_id: str, staff: str) -> Reply:
    return service.call("POST", "/v1/actions", {"action_id": action_id, "member_id": "ann", "action": "review"},
                        as_=staff, groups=STAFF)


def counter(service: Service, member_id: str, action: str, sort_key: str) -> int:
    item = service.db.get_item(TableName="EarningTable", Key={"pk": {"S": f"ACTION#{member_id}#{action}"},
                                                              "sk": {"S": sort_key}}).get("Item")
    return int(item["count"]["N"]) if item else 0


def verified(service: Service, member_id: str) -> list[dict[str, Any]]:
    shown = service.verify(member_id)
    assert (shown["chain_valid"], shown["balances_match"]) == (True, True), shown
    return service.ledger(member_id)


def race(service: Service, first: int, racers: int) -> Counter[tuple[int, str | None]]:
    for n in range(first, first + racers):
        service.token(f"till-{n}", *STAFF)
    replies = service.all_at_once([partial(review, service, f"RV-{n}", f"till-{n}")
                                   for n in range(first, first + racers)])
    return Counter((r.status, r.slug) for r in replies)


def test_thirty_reviews_at_once_under_one_a_day_credit_one(service: Service) -> None:
    service.sign_up("ann")
    publish(service, {"review": {"points": 20, "per_day": 1}})
    mark = service.transactions.mark()
    statuses = race(service, 0, 30)
    assert statuses == {(201, None): 1, (409, "action-capped"): 29}, statuses
    assert service.points("ann")["available"] == 20
    assert counter(service, "ann", "review", "day#2026-11-23") == 1
    assert counter(service, "ann", "review", "lifetime") == 1
    assert [(e["kind"], e["amount"]) for e in verified(service, "ann")] == [("action", 20)]
    report("30 reviews, per_day 1", **service.transactions.since(mark))


def test_thirty_reviews_over_three_days_under_five_for_life_credit_five(service: Service) -> None:
    service.sign_up("ann")
    publish(service, {"review": {"points": 20, "per_day": 2, "lifetime": 5}})
    mark = service.transactions.mark()
    credited = []
    for day in range(3):
        statuses = race(service, 10 * day, 10)
        credited.append(statuses[(201, None)])
        assert statuses[(201, None)] + statuses[(409, "action-capped")] == 10, statuses
        service.clock.advance(DAY)
    assert credited == [2, 2, 1]
    assert service.points("ann")["available"] == 100
    assert counter(service, "ann", "review", "lifetime") == 5
    assert len(verified(service, "ann")) == 5
    report("30 reviews over 3 days, lifetime 5", **service.transactions.since(mark))


def test_twenty_check_ins_at_once_credit_one(service: Service) -> None:
    service.sign_up("ann")
    publish(service, {"check_in": {"points": 2, "per_day": 3}})
    mark = service.transactions.mark()
    replies = service.all_at_once([partial(service.call, "POST", "/v1/members/me/check-ins", {}, as_="ann")
                                   for _ in range(20)])
    statuses = Counter((r.status, r.slug) for r in replies)
    assert statuses == {(201, None): 1, (409, "action-capped"): 19}, statuses
    assert service.points("ann")["available"] == 2
    assert counter(service, "ann", "check_in", "day#2026-11-23") == 1
    assert len(verified(service, "ann")) == 1
    report("20 check-ins", **service.transactions.since(mark))

"""Tiers and statuses on AWS's own engine, from several processes at once (docs/earning-tiers.md):

- 20 referees' first purchases at once: each moves the referrer's qualified count by one with an ADD in its own
  transaction, so the count is exact (20) and the referrer's standing item stays whole;
- one member's purchases racing across a tier's threshold: the buyer's account write serialises them and the
  standing's version condition refuses a put that read an older standing, so the spend is exactly the sum, the
  member is upgraded once, and exactly the purchases that the running spend qualified earn the tier's multiplier.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import pytest

from tests.concurrency.conftest import Service, report

pytestmark = pytest.mark.xdist_group("dynamodb-local")  # one DynamoDB Local per test process

PLAIN = {"points_per_currency_unit": 1, "referral_rates_bps": [1000, 500], "hold_days": 0, "currency": "CNY"}
GOLD = {"tier": "gold", "min_spend_12m_minor": 50000, "discount_bps": 1500, "points_multiplier_bps": 20000}
SHAREHOLDER = {"status": "shareholder", "min_qualified_referrals": 20, "points_multiplier_bps": 15000}


def publish(service: Service) -> None:
    admin: dict[str, Any] = {"as_": "boss", "groups": ("admin",)}
    assert service.call("PUT", "/v1/program", PLAIN, **admin).status == 200
    reply = service.call("PUT", "/v1/tiers", {"tiers": [GOLD], "statuses": [SHAREHOLDER]}, **admin)
    assert reply.status == 200, reply.body


def standing(service: Service, member_id: str) -> dict[str, Any]:
    item = service.db.get_item(TableName="EarningTable",
                               Key={"pk": {"S": f"STANDING#{member_id}"}, "sk": {"S": "standing"}})["Item"]
    return dict(item)


def member(service: Service, member_id: str) -> dict[str, Any]:
    reply = service.call("GET", f"/v1/members/{member_id}", as_="pos", groups=("staff",))
    assert reply.status == 200, reply.body
    return dict(reply.body)


def test_twenty_referees_first_purchases_at_once_count_twenty_qualified_referrals(service: Service) -> None:
    publish(service)
    ann = service.sign_up("ann")
    racers = 20
    for n in range(racers):
        service.sign_up(f"ref-{n}", ann["referral_code"])
    replies = service.all_at_once([partial(service.purchase, f"O-{n}", f"ref-{n}", 1000) for n in range(racers)],
                                  threads=10)
    assert Counter(r.status for r in replies) == {201: racers}, [r.body for r in replies if r.status != 201]
    stored = standing(service, "ann")
    assert int(stored["qualified"]["N"]) == racers
    assert member(service, "ann")["statuses"] == ["shareholder"]
    mine = service.purchase("O-ann", "ann", 1000)
    assert mine.body["multiplier"] == {"name": "shareholder", "bps": 15000}
    report("20 referees' first purchases", busy=dict(service.busy), version=stored["version"]["N"])


def test_one_members_purchases_racing_across_the_threshold_upgrade_once_and_count_every_amount(
        service: Service) -> None:
    publish(service)
    service.sign_up("bob")
    racers, amount = 12, 10000  # the 5th purchase reaches gold (50000)
    replies = service.all_at_once([partial(service.purchase, f"O-{n}", "bob", amount) for n in range(racers)],
                                  threads=6)
    assert Counter(r.status for r in replies) == {201: racers}, [r.body for r in replies if r.status != 201]
    gold = [r for r in replies if r.body.get("multiplier") == {"name": "gold", "bps": 20000}]
    assert len(gold) == racers - 4  # the 5th onwards, in the order the account write put them
    tier = member(service, "bob")["tier"]
    assert (tier["tier"], tier["spend_12m_minor"]) == ("gold", racers * amount)
    stored = standing(service, "bob")
    assert int(stored["open"]["N"]) == racers
    points = service.points("bob")
    assert points["available"] == 4 * 100 + (racers - 4) * 200
    report("one member racing across gold", busy=dict(service.busy), version=stored["version"]["N"])

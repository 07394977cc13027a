"""Expiry on AWS's own engine, from 8 processes at once (docs/earning-expiry.md): 100 redemptions race for a balance
part of which expired a moment ago, before any write recorded it. Every racer sees the same exact balance (a read
never counts expired points), the first winning write records the expiry once, the redemptions' own conditions on the
stored balance count what that write takes, and spending takes the undated points first, then the oldest dated."""

from __future__ import annotations

from collections import Counter
from functools import partial

import pytest

from tests.concurrency.conftest import Service, report

pytestmark = pytest.mark.xdist_group("dynamodb-local")  # one DynamoDB Local per test process

PLAIN = {"points_per_currency_unit": 1, "referral_rates_bps": [1000], "hold_days": 7, "currency": "CNY"}
DAY = 86_400


def publish(service: Service, **changes: object) -> None:
    reply = service.call("PUT", "/v1/program", {**PLAIN, **changes}, as_="boss", groups=("admin",))
    assert reply.status == 200, reply.body


def test_100_redemptions_racing_a_balance_part_of_which_just_expired(service: Service) -> None:
    service.sign_up("ann")
    assert service.adjust("A-0", "ann", 100).status == 201  # before the rule: never expires
    publish(service, expiry={"months": 1})
    service.clock.advance(61)
    assert service.adjust("A-1", "ann", 300).status == 201  # dated: the end of 23 December in Shanghai
    service.clock.advance(DAY)
    assert service.adjust("A-2", "ann", 200).status == 201  # dated: the end of 24 December
    service.clock.advance(30 * DAY)  # 24 December, 17:31 in Shanghai: the 300 are gone, nothing recorded yet
    shown = service.points("ann", expiring=True)
    assert (shown["available"], shown["expiring"]) == (300, [{"points": 200, "on": "2026-12-24"}])
    before = service.transactions.mark()

    replies = service.all_at_once([partial(service.redeem, "ann", 70, f"k-{n}", retry_busy=0) for n in range(100)])

    statuses = Counter((r.status, r.slug) for r in replies)
    assert statuses[(201, None)] + statuses[(200, None)] == 4, statuses  # floor(300 / 70)
    assert statuses[(409, "insufficient-points")] == 96, statuses
    shown = service.points("ann", expiring=True)
    # 280 spent: the 100 undated first, then 180 of the 200 dated
    assert (shown["available"], shown["expiring"]) == (20, [{"points": 20, "on": "2026-12-24"}])
    entries = service.ledger("ann")
    assert [(e["kind"], e["amount"]) for e in entries if e["kind"] == "expiry"] == [("expiry", -300)]
    assert sum(e["amount"] for e in entries if e["kind"] == "redemption") == -280
    verified = service.verify("ann")
    assert (verified["chain_valid"], verified["balances_match"]) == (True, True), verified
    report("100 redemptions over a just-expired balance", wins=4, **service.transactions.since(before))

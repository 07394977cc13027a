"""A partner's commission on AWS's own engine: purchases by the members it brought, from 8 processes at once, each
credit posted once to one dense, valid chain; then payouts racing for its available commission never take more
than is there (the write's own condition settles each)."""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import pytest
import requests

from tests.concurrency.conftest import Reply, Service, report
from tests.model.test_model import chain_head

pytestmark = pytest.mark.xdist_group("dynamodb-local")  # one DynamoDB Local per test process

ADMIN = {"as_": "boss", "groups": ("admin",)}
MEMBERS, PURCHASES, AMOUNT, RATE = 20, 200, 10_000, 500
WEEK_AND_A_DAY = 8 * 86400


def partner_call(service: Service, method: str, path: str) -> Reply:
    """As the partner itself (its token carries its partner_id)."""
    minted = requests.post(f"{service.url}/local/tokens", json={"sub": "wang", "groups": ["partner"],
                                                                 "partner_id": "P-1"}, timeout=30).json()
    answer = requests.request(method, service.url + path, headers={"Authorization": f"Bearer {minted['token']}"},
                              timeout=60)
    return Reply(answer.status_code, answer.json() if answer.content else None)


def entries(service: Service) -> list[dict[str, Any]]:
    service.drain()
    found: list[dict[str, Any]] = []
    path = "/v1/partners/P-1/ledger?limit=100"
    while True:
        reply = partner_call(service, "GET", path)
        assert reply.status == 200, reply.body
        found += reply.body["items"]
        if reply.body["next_cursor"] is None:
            return list(reversed(found))
        path = f"/v1/partners/P-1/ledger?limit=100&cursor={reply.body['next_cursor']}"


def test_purchases_at_once_credit_the_partner_once_each_and_racing_payouts_never_overdraw(service: Service) -> None:
    partner = {"partner_id": "P-1", "name": "Wang", "email": "w@example.com", "commission_bps": RATE,
               "attribution_days": 30}
    assert service.call("POST", "/v1/partners", partner, **ADMIN).status == 201  # type: ignore[arg-type]
    made = service.call("POST", "/v1/links", {"link_id": "L-1", "partner_id": "P-1"}, **ADMIN)  # type: ignore[arg-type]
    assert made.status == 201, made.body
    code = made.body["code"]
    members = [service.sign_up(f"buyer-{n}", code)["member_id"] for n in range(MEMBERS)]

    def buy(n: int) -> Reply:
        body = {"order_id": f"O-{n}", "member_id": members[n % MEMBERS], "amount_minor": AMOUNT, "currency": "CNY"}
        return service.call("POST", "/v1/purchases", body, as_="pos", groups=("staff",))

    replies = service.all_at_once([partial(buy, n) for n in range(PURCHASES)], threads=32)
    assert Counter(r.status for r in replies) == {201: PURCHASES}
    assert all(r.body["commission"]["amount_minor"] == AMOUNT * RATE // 10_000 for r in replies)
    chain = entries(service)
    assert [e["seq"] for e in chain] == list(range(1, len(chain) + 1))
    chain_head(chain)  # every link and hash recomputed from the API's output
    carried = Counter(source for e in chain
                      for source, _ in e.get("parts") or [[f"{e['source']['type']}/{e['source']['id']}", 0]])
    assert carried == {f"purchase/O-{n}": 1 for n in range(PURCHASES)}  # each purchase's commission, once
    total = PURCHASES * AMOUNT * RATE // 10_000
    balance = partner_call(service, "GET", "/v1/partners/P-1/commission").body
    assert balance == {"available": 0, "pending": total, "lifetime_earned": total, "queued": 0}

    service.clock.advance(WEEK_AND_A_DAY)
    amount, racers = 1_500, 100
    payouts = service.all_at_once([partial(service.call, "POST", "/v1/partners/P-1/payouts",
                                           {"payout_id": f"PO-{n}", "amount_minor": amount}, **ADMIN)  # type: ignore[arg-type]
                                   for n in range(racers)])
    wins = total // amount
    assert sum(1 for r in payouts if r.status in (200, 201)) == wins, Counter((r.status, r.slug) for r in payouts)
    assert Counter(r.slug for r in payouts if r.status == 409) == {"insufficient-commission": racers - wins}
    after = partner_call(service, "GET", "/v1/partners/P-1/commission").body
    assert after["available"] == total - wins * amount and after["pending"] == 0
    chain = entries(service)
    chain_head(chain)
    assert sum(1 for e in chain if e["kind"] == "payout") == wins
    assert sum(e["amount"] for e in chain) == total - wins * amount  # the balance is the sum of its entries
    report("partner commission", purchases=PURCHASES, payouts_won=wins, entries=len(chain))

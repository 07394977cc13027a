"""Stored value on AWS's own engine, from 8 processes at once (docs/wallet.md):

- 20 top-ups racing against the principal cap: exactly as many succeed as fit under it, the rest are
  ``422 stored-value-cap`` and write nothing; the principal ends exactly at the cap, never past it (the write's own
  conditions: the account's seq and ``at_most`` on the stored principal);
- 30 purchases racing to pay from one balance: never below zero in either bucket, successes × p ≤ what was held, and
  every refusal is ``409 insufficient-funds`` with nothing written.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import pytest

from tests.concurrency.conftest import Reply, Service, report
from tests.model.test_model import chain_head

pytestmark = pytest.mark.xdist_group("dynamodb-local")  # one DynamoDB Local per test process


def top_up(service: Service, top_up_id: str, member: str, amount: int) -> Reply:
    return service.call("POST", "/v1/top-ups", {"top_up_id": top_up_id, "member_id": member, "amount_minor": amount,
                                                "currency": "CNY"}, as_="pos", groups=("staff",))


def pay(service: Service, order_id: str, member: str, amount: int, paid: int) -> Reply:
    return service.call("POST", "/v1/purchases", {"order_id": order_id, "member_id": member, "amount_minor": amount,
                                                  "currency": "CNY", "stored_value_minor": paid},
                        as_="pos", groups=("staff",))


def held(service: Service, member: str) -> dict[str, Any]:
    reply = service.call("GET", f"/v1/members/{member}", as_="pos", groups=("staff",))
    assert reply.status == 200, reply.body
    return dict(reply.body["balances"]["stored_value"])


def verified(service: Service, holder: str) -> list[dict[str, Any]]:
    chain = service.ledger(holder)
    assert [e["seq"] for e in chain] == list(range(1, len(chain) + 1))
    found = service.verify(holder)
    assert (found["chain_valid"], found["balances_match"], found["head_hash"]) == (True, True, chain_head(chain))
    return chain


def test_twenty_top_ups_racing_against_the_cap_never_pass_it(service: Service) -> None:
    service.sign_up("ann")
    assert top_up(service, "T-first", "ann", 400_000).status == 201  # 12,000 bonus (the 3 % tier)
    racers, amount = 20, 10_000  # room for exactly 10 under the 500,000 cap
    mark = service.transactions.mark()
    replies = service.all_at_once([partial(top_up, service, f"T-{n}", "ann", amount) for n in range(racers)])
    statuses = Counter((r.status, r.slug) for r in replies)
    assert statuses == {(201, None): 10, (422, "stored-value-cap"): 10}, statuses
    assert held(service, "ann") == {"principal_minor": 500_000, "bonus_minor": 12_000, "currency": "CNY"}
    chain = verified(service, "ann")
    principal = [e for e in chain if e["asset"] == "stored_value" and e["bucket"] == "principal"]
    running = 0
    for entry in principal:  # never past the cap at any point of the chain
        running += entry["amount"]
        assert running <= 500_000
    assert len(principal) == 11
    report("20 top-ups against the cap", **statuses_of(statuses), **service.transactions.since(mark))


def test_thirty_payments_racing_for_one_balance_never_overdraw_it(service: Service) -> None:
    service.sign_up("bob")
    assert top_up(service, "T-bob", "bob", 200_000).status == 201  # 2,000 bonus (the 1 % tier): 202,000 held
    racers, paid = 30, 10_000
    mark = service.transactions.mark()
    replies = service.all_at_once([partial(pay, service, f"O-{n}", "bob", 12_000, paid)
                                   for n in range(racers)])
    statuses = Counter((r.status, r.slug) for r in replies)
    assert set(statuses) <= {(201, None), (409, "insufficient-funds")}, statuses
    succeeded = statuses[(201, None)]
    assert succeeded * paid <= 202_000
    assert succeeded == 20  # every one that fits was paid: a refusal is only ever for want of funds
    taken = [r.body["stored_value"] for r in replies if r.status == 201]
    assert all(t["principal_minor"] + t["bonus_minor"] == paid for t in taken)
    now = held(service, "bob")
    assert now["principal_minor"] >= 0 and now["bonus_minor"] >= 0
    assert (now["principal_minor"] + sum(t["principal_minor"] for t in taken),
            now["bonus_minor"] + sum(t["bonus_minor"] for t in taken)) == (200_000, 2_000)
    chain = verified(service, "bob")
    for bucket in ("principal", "bonus"):
        running = 0
        for entry in chain:
            if entry["asset"] == "stored_value" and entry["bucket"] == bucket:
                running += entry["amount"]
                assert running >= 0
    refused = [n for n, r in enumerate(replies) if r.status == 409]
    for n in refused:  # nothing of a refused purchase was recorded
        assert not any(e["source"]["id"] == f"O-{n}" for e in chain)
    report("30 payments against one balance", **statuses_of(statuses), **service.transactions.since(mark))


def statuses_of(statuses: Counter[tuple[int, str | None]]) -> dict[str, int]:
    return {f"{status} {slug or ''}".strip(): count for (status, slug), count in statuses.items()}

"""Bundle cards on AWS's own engine, from 8 processes at once (docs/wallet.md, "Bundle cards"):

- 20 uses of a 6-use card from several tills at once: exactly 6 succeed (remaining 5 … 0, each once), every
  other is ``409 bundle-used-up`` and writes nothing; the card's lines are the sale's +6 and six -1, and the
  chain verifies. The write's own condition (the stored card balance at least 1, and the account's seq) decides,
  never a read before it;
- a refund racing five uses: whatever order they land in, the uses that succeeded and the uses the refund took back
  add up to the card's 6 exactly, the refund's amount is ``floor(price × refunded / 6)``, and the buyer's points
  are reversed by exactly that share.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import pytest

from tests.concurrency.conftest import Reply, Service, report
from tests.model.test_model import chain_head

pytestmark = pytest.mark.xdist_group("dynamodb-local")  # one DynamoDB Local per test process

PRICE, USES = 28_800, 6
TILLS = 4  # staff identities the uses come from


def sell(service: Service, sale_id: str, member_id: str) -> dict[str, Any]:
    admin = service.call("PUT", "/v1/bundles/WASH-6", {"name": "6 car washes", "uses": USES, "price_minor": PRICE,
                                                        "valid_days": 365}, as_="boss", groups=("admin",))
    assert admin.status == 200, admin.body
    reply = service.call("POST", "/v1/bundle-sales", {"sale_id": sale_id, "member_id": member_id,
                                                      "product_id": "WASH-6"}, as_="pos", groups=("staff",))
    assert reply.status == 201, reply.body
    return dict(reply.body)


def use(service: Service, card_id: str, use_id: str, till: int) -> Reply:
    return service.call("POST", f"/v1/bundle-cards/{card_id}/uses", {"use_id": use_id}, as_=f"till-{till}",
                        groups=("staff",))


def refund(service: Service, card_id: str, refund_id: str) -> Reply:
    return service.call("POST", f"/v1/bundle-cards/{card_id}/refunds", {"refund_id": refund_id}, as_="pos",
                        groups=("staff",))


def card_lines(service: Service, member_id: str, card_id: str) -> list[tuple[str, int]]:
    chain = service.ledger(member_id)
    assert [e["seq"] for e in chain] == list(range(1, len(chain) + 1))
    head = chain_head(chain)
    shown = service.verify(member_id)
    assert (shown["chain_valid"], shown["balances_match"], shown["head_hash"], shown["problems"]) == (
        True, True, head, []), shown
    return [(e["kind"], e["amount"]) for e in chain if e["asset"] == f"bundle:{card_id}"]


def test_twenty_uses_of_a_six_use_card_at_several_tills_succeed_exactly_six_times(service: Service) -> None:
    service.sign_up("bob")
    card = sell(service, "S-1", "bob")["card_id"]
    racers = 20
    for till in range(TILLS):
        service.token(f"till-{till}", "staff")
    mark = service.transactions.mark()
    replies = service.all_at_once([partial(use, service, card, f"U-{n}", n % TILLS) for n in range(racers)])
    statuses = Counter((r.status, r.slug) for r in replies)
    assert statuses == {(201, None): USES, (409, "bundle-used-up"): racers - USES}, statuses
    assert sorted(r.body["remaining"] for r in replies if r.status == 201) == list(range(USES))
    assert card_lines(service, "bob", card) == [("bundle_sale", USES)] + [("bundle_use", -1)] * USES
    winners = [n for n, r in enumerate(replies) if r.status == 201]
    again = use(service, card, f"U-{winners[0]}", 0)  # a winner's replay answers its first body
    assert (again.status, again.body) == (200, replies[winners[0]].body)
    report("20 uses of a 6-use card", busy=dict(service.busy), **service.transactions.since(mark))


def test_a_refund_racing_uses_takes_back_exactly_what_they_left(service: Service) -> None:
    service.sign_up("bob")
    card = sell(service, "S-1", "bob")["card_id"]
    earned = service.points("bob")["pending"]
    for till in range(TILLS):
        service.token(f"till-{till}", "staff")
    # five uses: the refund always finds one left at least, whenever it lands
    calls = [partial(use, service, card, f"U-{n}", n % TILLS) for n in range(USES - 1)]
    calls.insert(2, partial(refund, service, card, "R-1"))
    replies = service.all_at_once(calls)
    [refunded] = [r for r in replies if r.body and "uses_refunded" in r.body]
    assert refunded.status == 201, refunded.body
    used = sum(1 for r in replies if r.status == 201 and "remaining" in r.body)
    assert used + refunded.body["uses_refunded"] == USES
    assert refunded.body["amount_minor"] == PRICE * refunded.body["uses_refunded"] // USES
    assert {(r.status, r.slug) for r in replies if r.status != 201} <= {(409, "bundle-used-up")}
    late = use(service, card, "U-late", 0)
    assert (late.status, late.slug) == (409, "bundle-used-up")
    lines = card_lines(service, "bob", card)
    assert sum(amount for _, amount in lines) == 0
    assert Counter(kind for kind, _ in lines) == {"bundle_sale": 1, "bundle_use": used, "refund": 1}
    assert service.points("bob")["pending"] == earned - earned * refunded.body["amount_minor"] // PRICE
    report("a refund racing uses", used=used, refunded=refunded.body["uses_refunded"], busy=dict(service.busy))

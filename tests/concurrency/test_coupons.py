"""Coupons and the rewards catalogue on AWS's own engine, from 8 processes at once (docs/wallet.md):

- one coupon redeemed by 50 tills at once: exactly one use, every other ``409 coupon-used``, the member's counter
  of the template back to 0;
- 100 members redeeming a reward with a stock of 10 at once: exactly 10 redemptions, every other
  ``409 out-of-stock`` with nothing spent, the stock 0 and each balance exact;
- 30 issues of one template to one member at once, against a ``per_member_limit`` of 3: exactly 3 coupons, every
  other ``409 coupon-limit``.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import pytest

from tests.concurrency.conftest import Reply, Service, report

pytestmark = pytest.mark.xdist_group("dynamodb-local")  # one DynamoDB Local per test process

STAFF = ("staff",)


def put_template(service: Service, template_id: str, **fields: Any) -> None:
    reply = service.call("PUT", f"/v1/coupon-templates/{template_id}", {"name": template_id, "valid_days": 30,
                                                                        **fields}, as_="boss", groups=("admin",))
    assert reply.status == 200, reply.body


def issue(service: Service, issue_id: str, template_id: str, member_id: str) -> Reply:
    return service.call("POST", "/v1/coupons", {"issue_id": issue_id, "template_id": template_id,
                                                "member_id": member_id}, as_="pos", groups=STAFF)


def held(service: Service, member_id: str, template_id: str) -> int:
    item = service.db.get_item(TableName="WalletTable", Key={"pk": {"S": f"COUPON#{member_id}"},
                                                             "sk": {"S": f"HELD#{template_id}"}})["Item"]
    return int(item["held"]["N"])


def test_one_coupon_redeemed_by_fifty_tills_at_once_is_used_once(service: Service) -> None:
    service.sign_up("ann")
    put_template(service, "twenty", amount_off_minor=2000, per_member_limit=1)
    coupon = issue(service, "I-1", "twenty", "ann").body
    racers = 50
    for n in range(racers):
        service.token(f"till-{n}", *STAFF)
    mark = service.transactions.mark()
    replies = service.all_at_once([partial(
        service.call, "POST", f"/v1/coupons/{coupon['code']}/redemptions",
        {"redemption_id": f"S-{n}", "member_id": "ann", "subtotal_minor": 12900}, as_=f"till-{n}", groups=STAFF)
        for n in range(racers)])
    statuses = Counter((r.status, r.slug) for r in replies)
    assert statuses == {(201, None): 1, (409, "coupon-used"): racers - 1}, statuses
    [shown] = service.call("GET", "/v1/members/ann/coupons", as_="pos", groups=STAFF).body["items"]
    assert shown["status"] == "used"
    assert held(service, "ann", "twenty") == 0
    report("one coupon, 50 tills", **service.transactions.since(mark))


def test_a_hundred_members_racing_for_a_stock_of_ten_get_exactly_ten(service: Service) -> None:
    members = [f"m{n:03d}" for n in range(100)]
    for member in members:
        service.sign_up(member)
        assert service.adjust(f"A-{member}", member, 500).status == 201
    reply = service.call("PUT", "/v1/rewards/wash", {"name": "Free wash", "points": 300, "stock": 10},
                         as_="boss", groups=("admin",))
    assert reply.status == 200, reply.body
    mark = service.transactions.mark()
    replies = service.all_at_once([partial(service.call, "POST", "/v1/redemptions", {"reward_id": "wash"}, as_=m,
                                           headers={"Idempotency-Key": "k-wash"}) for m in members])
    statuses = Counter((r.status, r.slug) for r in replies)
    assert statuses == {(201, None): 10, (409, "out-of-stock"): 90}, statuses
    winners = {m for m, r in zip(members, replies, strict=True) if r.status == 201}
    for member in members:
        assert service.points(member)["available"] == (200 if member in winners else 500)
    [shown] = service.call("GET", "/v1/rewards", as_="m000").body["items"]
    assert shown["stock"] == 0
    for member in sorted(winners)[:3]:
        assert service.verify(member)["balances_match"]
    report("a stock of 10, 100 members", **service.transactions.since(mark))


def test_racing_issues_never_pass_the_per_member_limit(service: Service) -> None:
    service.sign_up("ann")
    put_template(service, "three", amount_off_minor=100, per_member_limit=3)
    racers = 30
    mark = service.transactions.mark()
    replies = service.all_at_once([partial(issue, service, f"I-{n}", "three", "ann") for n in range(racers)])
    statuses = Counter((r.status, r.slug) for r in replies)
    assert statuses == {(201, None): 3, (409, "coupon-limit"): racers - 3}, statuses
    shown = service.call("GET", "/v1/members/ann/coupons", as_="pos", groups=STAFF).body["items"]
    assert [c["status"] for c in shown] == ["active"] * 3
    assert held(service, "ann", "three") == 3
    report("30 issues against a limit of 3", **service.transactions.since(mark))

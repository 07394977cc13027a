"""The rewards catalogue over HTTP (API-additions, "Rewards catalogue"; docs/wallet.md): an admin prices rewards in
points with optional stock; a redemption by `reward_id` spends the price and takes one unit of stock in the same
write (409 out-of-stock); a coupon reward issues its coupon there too. Every refusal writes nothing."""

from __future__ import annotations

from typing import Any

from tests.support import Api, CallAs, Reply, dump_tables

STAFF: CallAs = {"as_": "pos", "groups": ("staff",)}
ADMIN: CallAs = {"as_": "boss", "groups": ("admin",)}


def refused(reply: Reply, status: int, slug: str) -> None:
    assert (reply.status, reply.slug) == (status, slug), reply.body
    assert reply.headers.get("content-type", "").startswith("application/problem+json")


def give(api: Api, member: str, points: int, adjustment_id: str) -> None:
    reply = api.call("POST", "/v1/adjustments", {"adjustment_id": adjustment_id, "member_id": member,
                                                 "points": points, "reason": "welcome"}, **ADMIN)
    assert reply.status == 201, reply.body


def reward(api: Api, reward_id: str, **fields: Any) -> Reply:
    return api.call("PUT", f"/v1/rewards/{reward_id}", {"name": reward_id, **fields}, **ADMIN)


def by_reward(api: Api, member_id: str, reward_id: str, key: str) -> Reply:
    return api.call("POST", "/v1/redemptions", {"reward_id": reward_id}, as_=member_id,
                    headers={"Idempotency-Key": key})


def test_a_reward_costs_its_price_and_one_unit_of_stock_until_none_is_left(api: Api) -> None:
    api.sign_up("ann")
    give(api, "ann", 1000, "A-1")
    assert reward(api, "wash", points=300, stock=2).status == 200
    assert reward(api, "mug", points=100, stock=None).status == 200
    listed = api.call("GET", "/v1/rewards", as_="ann").body["items"]
    assert listed == [{"reward_id": "mug", "name": "mug", "points": 100, "stock": None, "coupon_template_id": None},
                      {"reward_id": "wash", "name": "wash", "points": 300, "stock": 2, "coupon_template_id": None}]

    first = by_reward(api, "ann", "wash", "k-1")
    assert first.status == 201, first.body
    assert (first.body["points"], first.body["reward"], first.body["reward_id"]) == (300, "wash", "wash")
    assert by_reward(api, "ann", "wash", "k-1").body == first.body  # a replay
    assert by_reward(api, "ann", "wash", "k-2").status == 201
    before = dump_tables()
    refused(by_reward(api, "ann", "wash", "k-3"), 409, "out-of-stock")
    refused(by_reward(api, "ann", "nothing", "k-3"), 404, "not-found")
    refused(api.call("POST", "/v1/redemptions", {"reward_id": "wash", "points": 300, "reward": "x"}, as_="ann",
                     headers={"Idempotency-Key": "k-3"}), 422, "validation-error")
    refused(api.call("POST", "/v1/redemptions", {"reward": "x"}, as_="ann", headers={"Idempotency-Key": "k-3"}),
            422, "validation-error")
    assert dump_tables() == before
    assert by_reward(api, "ann", "mug", "k-4").status == 201  # unlimited
    assert api.points("ann")["available"] == 1000 - 300 - 300 - 100
    assert [r["stock"] for r in api.call("GET", "/v1/rewards", as_="ann").body["items"]] == [None, 0]
    before = dump_tables()
    refused(by_reward(api, "ann", "mug", "k-1"), 409, "idempotency-mismatch")  # k-1 bought the wash
    reward(api, "gold", points=10_000, stock=1)
    before = dump_tables()
    refused(by_reward(api, "ann", "gold", "k-5"), 409, "insufficient-points")  # and no stock is taken
    assert dump_tables() == before
    assert api.verify("ann")["balances_match"]


def test_a_coupon_reward_issues_its_coupon_in_the_same_write(api: Api) -> None:
    api.sign_up("ann")
    give(api, "ann", 200, "A-1")
    assert api.call("PUT", "/v1/coupon-templates/ten", {"name": "10 off", "amount_off_minor": 1000, "valid_days": 7,
                                                        "per_member_limit": 1}, **ADMIN).status == 200
    refused(reward(api, "ten-off", points=50, stock=5, coupon_template_id="none"), 422, "validation-error")
    assert reward(api, "ten-off", points=50, stock=5, coupon_template_id="ten").status == 200
    bought = by_reward(api, "ann", "ten-off", "k-1")
    assert bought.status == 201, bought.body
    coupon = bought.body["coupon"]
    assert (coupon["template_id"], coupon["status"], coupon["member_id"]) == ("ten", "active", "ann")
    shown = api.call("GET", "/v1/members/me/coupons", as_="ann").body["items"]
    assert shown == [coupon]
    before = dump_tables()
    refused(by_reward(api, "ann", "ten-off", "k-2"), 409, "coupon-limit")  # one held at once: nothing spent
    assert dump_tables() == before
    assert api.points("ann")["available"] == 150
    assert api.verify("ann")["balances_match"]

"""Bundle cards over HTTP (API-additions, "Bundle cards (套餐卡)"; docs/wallet.md): an admin puts a product on sale;
the till sells a card (a purchase of its price: points and referral credits as any purchase), uses it down to zero
(then `409 bundle-used-up`), not from its `expires_at` on (`409 bundle-expired`), and refunds the unused uses as a
refund of the sale's purchase (points and the referrer's credit reversed pro rata, exactly). The sale's purchase is
refunded only that way. Every refusal writes nothing; every write replays."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from loyalty.ledger.accounts import Account, Balance
from loyalty.ledger.dynamodb import DynamoLedgerStore
from tests.support import Api, CallAs, Reply, dump_tables

STAFF: CallAs = {"as_": "pos", "groups": ("staff",)}
DAY = 86_400
WASH = {"name": "6 car washes", "uses": 6, "price_minor": 28800, "valid_days": 365}


def refused(reply: Reply, status: int, slug: str) -> None:
    assert (reply.status, reply.slug) == (status, slug), reply.body
    assert reply.headers.get("content-type", "").startswith("application/problem+json")


def put_product(api: Api, product_id: str, **terms: Any) -> Reply:
    return api.admin("PUT", f"/v1/bundles/{product_id}", {**WASH, **terms})


def sell(api: Api, sale_id: str, member_id: str, product_id: str = "WASH-6") -> Reply:
    return api.call("POST", "/v1/bundle-sales", {"sale_id": sale_id, "member_id": member_id,
                                                 "product_id": product_id}, **STAFF)


def use(api: Api, card_id: str, use_id: str) -> Reply:
    return api.call("POST", f"/v1/bundle-cards/{card_id}/uses", {"use_id": use_id}, **STAFF)


def refund(api: Api, card_id: str, refund_id: str) -> Reply:
    return api.call("POST", f"/v1/bundle-cards/{card_id}/refunds", {"refund_id": refund_id}, **STAFF)


def card_entries(api: Api, member_id: str, card_id: str) -> list[tuple[str, int]]:
    return [(e["kind"], e["amount"]) for e in reversed(api.ledger(member_id)) if e["asset"] == f"bundle:{card_id}"]


def bundles_of(api: Api, member_id: str) -> list[dict[str, Any]]:
    reply = api.call("GET", f"/v1/members/{member_id}", **STAFF)
    assert reply.status == 200, reply.body
    return list(reply.body["balances"]["bundles"])


def test_an_admin_puts_products_and_any_caller_lists_them(api: Api) -> None:
    put = put_product(api, "WASH-6")
    assert put.status == 200, put.body
    assert {k: put.body[k] for k in WASH} == WASH and put.body["product_id"] == "WASH-6"
    assert put_product(api, "WAX-3", name="3 waxes", uses=3, price_minor=45000, valid_days=90).status == 200
    before = dump_tables()
    for bad in ({"uses": 0}, {"uses": 2.0}, {"uses": "6"}, {"price_minor": 0}, {"price_minor": 99.5},
                {"valid_days": 0}, {"valid_days": True}, {"name": ""}, {"extra": 1}):
        refused(put_product(api, "WASH-6", **bad), 422, "validation-error")
    refused(api.admin("PUT", "/v1/bundles/WASH-6", {"name": "6 car washes"}), 422, "validation-error")
    refused(api.call("PUT", "/v1/bundles/WASH-6", WASH, **STAFF), 403, "forbidden")
    assert dump_tables() == before
    api.sign_up("ann")
    listed = api.call("GET", "/v1/bundles", as_="ann")
    assert listed.status == 200
    assert [(p["product_id"], p["uses"], p["price_minor"]) for p in listed.body["items"]] == [
        ("WASH-6", 6, 28800), ("WAX-3", 3, 45000)]


def test_a_sale_is_a_purchase_of_the_price_with_the_card_in_the_same_write(api: Api) -> None:
    ann, _ = api.chain("ann", "bob")
    api.sign_up("cat", ann["referral_code"])
    put_product(api, "WASH-6")
    plain = api.purchase("O-cat", "cat", 28800)  # what a purchase of the same price credits
    sold = sell(api, "S-1", "bob")
    assert sold.status == 201, sold.body
    card_id = sold.body["card_id"]
    assert sold.body == {"card_id": card_id, "product_id": "WASH-6", "remaining": 6,
                         "expires_at": "2027-11-23T09:30:00Z", "price_minor": 28800}
    assert card_id.startswith("bc_")
    buyer = next(c["points"] for c in plain.body["credits"] if c["level"] == 0)
    referrer = next(c["points"] for c in plain.body["credits"] if c["level"] == 1)
    assert api.points("bob")["pending"] == buyer
    assert api.points("ann")["pending"] == 2 * referrer  # cat's purchase and bob's sale
    entries = [(e["kind"], e["asset"], e["amount"], e["source"]["id"]) for e in reversed(api.ledger("bob"))]
    assert entries == [("purchase", "points", buyer, "S-1"), ("bundle_sale", f"bundle:{card_id}", 6, "S-1")]
    assert bundles_of(api, "bob") == [{"card_id": card_id, "product_id": "WASH-6", "name": "6 car washes",
                                       "remaining": 6, "uses": 6, "price_minor": 28800,
                                       "expires_at": "2027-11-23T09:30:00Z"}]
    assert bundles_of(api, "cat") == []
    shown = api.call("GET", f"/v1/bundle-cards/{card_id}", **STAFF)
    assert shown.status == 200 and shown.body["remaining"] == 6 and shown.body["sale_id"] == "S-1"
    assert shown.body["member_id"] == "bob" and shown.body["sold_at"] == "2026-11-23T09:30:00Z"

    before = dump_tables()
    again = sell(api, "S-1", "bob")
    assert (again.status, again.body) == (200, sold.body)
    put_product(api, "WASH-6", price_minor=30000)  # new terms: the card and its replay keep the old
    after_put = dump_tables()
    assert sell(api, "S-1", "bob").body == sold.body
    assert dump_tables() == after_put
    put_product(api, "WASH-6")
    before = dump_tables()
    refused(sell(api, "S-1", "cat"), 409, "idempotency-mismatch")
    refused(sell(api, "O-cat", "cat"), 409, "idempotency-mismatch")  # an ordinary purchase's order_id
    refused(api.purchase("S-1", "bob", 28800), 409, "idempotency-mismatch")
    refused(sell(api, "S-2", "bob", "NO-SUCH"), 404, "not-found")
    refused(sell(api, "S-2", "nobody"), 404, "not-found")
    refused(api.call("POST", "/v1/bundle-sales", {"sale_id": "S-2", "member_id": "bob"}, **STAFF), 422,
            "validation-error")
    refused(api.call("POST", "/v1/bundle-sales", {"sale_id": "S-2", "member_id": "bob", "product_id": "WASH-6"},
                     as_="bob"), 403, "forbidden")
    refused(api.call("GET", "/v1/bundle-cards/bc_00000000000000000000", **STAFF), 404, "not-found")
    assert dump_tables() == before
    assert api.verify("bob")["chain_valid"] and api.verify("bob")["balances_match"]


def test_uses_take_one_each_down_to_zero_then_the_card_is_used_up(api: Api) -> None:
    api.sign_up("bob")
    put_product(api, "WASH-3", uses=3, price_minor=9000)
    card_id = sell(api, "S-1", "bob", "WASH-3").body["card_id"]
    first = use(api, card_id, "U-1")
    assert (first.status, first.body) == (201, {"card_id": card_id, "remaining": 2})
    before = dump_tables()
    assert (use(api, card_id, "U-1").status, use(api, card_id, "U-1").body) == (200, first.body)  # a replay
    assert dump_tables() == before
    assert use(api, card_id, "U-2").body["remaining"] == 1
    assert use(api, card_id, "U-3").body["remaining"] == 0
    before = dump_tables()
    refused(use(api, card_id, "U-4"), 409, "bundle-used-up")
    refused(use(api, "bc_00000000000000000000", "U-5"), 404, "not-found")
    refused(use(api, "not-a-card", "U-5"), 422, "validation-error")
    refused(api.call("POST", f"/v1/bundle-cards/{card_id}/uses", {"use_id": "U-5"}, as_="bob"), 403, "forbidden")
    refused(refund(api, card_id, "R-1"), 409, "bundle-used-up")
    assert dump_tables() == before
    assert use(api, card_id, "U-3").body == {"card_id": card_id, "remaining": 0}  # replays still answer
    assert card_entries(api, "bob", card_id) == [("bundle_sale", 3), ("bundle_use", -1), ("bundle_use", -1),
                                                 ("bundle_use", -1)]
    assert bundles_of(api, "bob") == []  # nothing left: no longer listed
    assert api.verify("bob")["chain_valid"] and api.verify("bob")["balances_match"]


def test_a_card_takes_uses_until_the_second_before_it_expires(api: Api) -> None:
    api.sign_up("bob")
    put_product(api, "DAY-PASS", uses=5, valid_days=1)
    sold = sell(api, "S-1", "bob", "DAY-PASS").body
    assert sold["expires_at"] == "2026-11-24T09:30:00Z"
    api.move_clock(DAY - 1)
    assert use(api, sold["card_id"], "U-1").status == 201  # 09:29:59 the next day
    api.move_clock(1)
    before = dump_tables()
    refused(use(api, sold["card_id"], "U-2"), 409, "bundle-expired")  # at expires_at itself
    assert dump_tables() == before
    assert use(api, sold["card_id"], "U-1").status == 200  # the earlier use replays
    # An expired card's unused uses are refunded all the same (docs/wallet.md)
    back = refund(api, sold["card_id"], "R-1")
    assert back.status == 201 and back.body == {"refund_id": "R-1", "uses_refunded": 4,
                                                "amount_minor": 28800 * 4 // 5}
    assert bundles_of(api, "bob") == []


def test_a_refund_gives_back_the_unused_uses_pro_rata_as_a_refund_of_the_sale(api: Api) -> None:
    api.chain("ann", "bob")
    put_product(api, "WAX-3", name="3 waxes", uses=3, price_minor=10001, valid_days=90)
    sold = sell(api, "S-1", "bob", "WAX-3").body
    card_id = sold["card_id"]
    buyer, referrer = api.points("bob")["pending"], api.points("ann")["pending"]
    assert (buyer, referrer) == (100, 10)
    assert use(api, card_id, "U-1").status == 201

    before = dump_tables()
    refused(api.refund("S-1", "R-1", 100), 409, "use-bundle-refund")
    refused(api.refund("S-1", "R-1", 10001), 409, "use-bundle-refund")
    assert dump_tables() == before

    back = refund(api, card_id, "R-1")
    amount = 10001 * 2 // 3  # 6667
    assert (back.status, back.body) == (201, {"refund_id": "R-1", "uses_refunded": 2, "amount_minor": amount})
    assert api.points("bob")["pending"] == buyer - buyer * amount // 10001  # 100 - 66 = 34
    assert api.points("ann")["pending"] == referrer - referrer * amount // 10001  # 10 - 6 = 4
    assert card_entries(api, "bob", card_id) == [("bundle_sale", 3), ("bundle_use", -1), ("refund", -2)]
    refunds = [(e["kind"], e["asset"], e["amount"], e["source"]["id"]) for e in api.ledger("bob")
               if e["source"]["type"] == "refund"]
    assert sorted(refunds) == [("refund", f"bundle:{card_id}", -2, "S-1/R-1"), ("refund", "points", -66, "S-1/R-1")]
    assert [(e["kind"], e["amount"]) for e in reversed(api.ledger("ann"))] == [("referral", 10), ("refund", -6)]

    before = dump_tables()
    assert (refund(api, card_id, "R-1").status, refund(api, card_id, "R-1").body) == (200, back.body)
    refused(refund(api, card_id, "R-2"), 409, "bundle-used-up")
    refused(use(api, card_id, "U-2"), 409, "bundle-used-up")
    refused(refund(api, "bc_00000000000000000000", "R-3"), 404, "not-found")
    refused(api.refund("S-1", "R-1", 100), 409, "idempotency-mismatch")  # that refund id is the card's
    assert dump_tables() == before
    for member in ("ann", "bob"):
        assert api.verify(member)["chain_valid"] and api.verify(member)["balances_match"]


def test_a_use_is_refused_by_its_own_write_when_the_card_it_read_is_stale(api: Api,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The last use's write carries its own condition on the stored card balance: a read that still shows a use
    left (the account's seq and head as stored, only the card's bucket behind) cannot take the card below zero. It
    is refused by DynamoDB on every try (busy, nothing written), never written."""
    api.sign_up("bob")
    put_product(api, "ONE", uses=1)
    card_id = sell(api, "S-1", "bob", "ONE").body["card_id"]
    fresh = DynamoLedgerStore.accounts

    def stale(self: DynamoLedgerStore, holders: Any) -> dict[str, Account]:
        found = fresh(self, holders)
        account = found["bob"]
        balances = {**account.balances, f"bundle:{card_id}": Balance({"available": 1})}
        return {**found, "bob": replace(account, balances=balances)}

    assert use(api, card_id, "U-1").status == 201
    monkeypatch.setattr(DynamoLedgerStore, "accounts", stale)
    monkeypatch.setattr("loyalty.shared.once.time.sleep", lambda seconds: None)
    before = dump_tables()
    refused(use(api, card_id, "U-2"), 503, "busy")
    assert dump_tables() == before

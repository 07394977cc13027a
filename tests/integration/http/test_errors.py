"""Every error row of the contract, through the real handlers: the right status and slug, as
application/problem+json, and nothing written to any table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from tests.support import Api, CallAs, Reply, dump_tables


@dataclass(frozen=True)
class Case:
    name: str
    status: int
    slug: str
    request: Callable[[Api], Reply]


def _setup(api: Api) -> None:
    """A small world the refusals happen in: a referral chain, a purchase, a spent balance."""
    api.chain("alice", "bob", "dan")
    assert api.purchase("O-1", "dan", 10000).status == 201


STAFF: CallAs = {"as_": "pos", "groups": ("staff",)}
ADMIN: CallAs = {"as_": "boss", "groups": ("admin",)}
PURCHASE = {"order_id": "O-2", "member_id": "dan", "amount_minor": 500, "currency": "CNY",
            "occurred_at": "2026-11-23T09:30:00Z"}

CASES = [
    # validation-error 422: body, path and query
    Case("purchase amount as float", 422, "validation-error",
         lambda a: a.call("POST", "/v1/purchases", {**PURCHASE, "amount_minor": 500.5}, **STAFF)),
    Case("purchase amount as string", 422, "validation-error",
         lambda a: a.call("POST", "/v1/purchases", {**PURCHASE, "amount_minor": "500"}, **STAFF)),
    Case("purchase negative amount", 422, "validation-error",
         lambda a: a.call("POST", "/v1/purchases", {**PURCHASE, "amount_minor": -5}, **STAFF)),
    Case("purchase bad order id", 422, "validation-error",
         lambda a: a.call("POST", "/v1/purchases", {**PURCHASE, "order_id": "has space"}, **STAFF)),
    Case("purchase order id too long", 422, "validation-error",
         lambda a: a.call("POST", "/v1/purchases", {**PURCHASE, "order_id": "x" * 65}, **STAFF)),
    Case("purchase without timezone", 422, "validation-error",
         lambda a: a.call("POST", "/v1/purchases", {**PURCHASE, "occurred_at": "2026-11-23T09:30:00"}, **STAFF)),
    Case("purchase in the future", 422, "validation-error",
         lambda a: a.call("POST", "/v1/purchases", {**PURCHASE, "occurred_at": "2027-01-01T00:00:00Z"}, **STAFF)),
    Case("purchase in another currency", 422, "validation-error",
         lambda a: a.call("POST", "/v1/purchases", {**PURCHASE, "currency": "USD"}, **STAFF)),
    Case("purchase unknown field", 422, "validation-error",
         lambda a: a.call("POST", "/v1/purchases", {**PURCHASE, "amount": 5}, **STAFF)),
    Case("purchase body not json", 422, "validation-error",
         lambda a: a.call("POST", "/v1/purchases", raw=b"{not json", **STAFF)),
    Case("purchase body a list", 422, "validation-error",
         lambda a: a.call("POST", "/v1/purchases", [PURCHASE], **STAFF)),
    Case("sign-up without email", 422, "validation-error",
         lambda a: a.call("POST", "/v1/members", {"display_name": "Eve"}, as_="eve")),
    Case("sign-up birthday in the future", 422, "validation-error",
         lambda a: a.call("POST", "/v1/members", {"email": "eve@example.com", "display_name": "Eve",
                                                  "birthday": "2030-01-01"}, as_="eve")),
    Case("redemption of zero points", 422, "validation-error",
         lambda a: a.call("POST", "/v1/redemptions", {"points": 0, "reward": "x"}, as_="dan",
                          headers={"Idempotency-Key": "k"})),
    Case("redemption key with bad characters", 422, "validation-error",
         lambda a: a.call("POST", "/v1/redemptions", {"points": 1, "reward": "x"}, as_="dan",
                          headers={"Idempotency-Key": "k/1"})),
    Case("adjustment of zero", 422, "validation-error",
         lambda a: a.call("POST", "/v1/adjustments", {"adjustment_id": "A-1", "member_id": "dan", "points": 0,
                                                      "reason": "r"}, **ADMIN)),
    Case("program with eleven levels", 422, "validation-error",
         lambda a: a.call("PUT", "/v1/program", {"points_per_currency_unit": 1, "referral_rates_bps": [1] * 11,
                                                 "hold_days": 7, "currency": "CNY"}, **ADMIN)),
    Case("ledger limit out of range", 422, "validation-error",
         lambda a: a.call("GET", "/v1/members/dan/ledger?limit=1000", **STAFF)),
    Case("ledger cursor forged", 422, "validation-error",
         lambda a: a.call("GET", "/v1/members/dan/ledger?cursor=bm9wZQ", **STAFF)),
    Case("member id with a slash-like character", 422, "validation-error",
         lambda a: a.call("GET", "/v1/members/da%20n", **STAFF)),
    Case("refund of a float", 422, "validation-error",
         lambda a: a.call("POST", "/v1/purchases/O-1/refunds", {"refund_id": "R", "amount_minor": 1.0}, **STAFF)),
    # unauthorized 401
    Case("no token", 401, "unauthorized", lambda a: a.call("POST", "/v1/purchases", PURCHASE)),
    Case("bad token", 401, "unauthorized",
         lambda a: a.call("POST", "/v1/purchases", PURCHASE, headers={"Authorization": "Bearer not-a-jwt"})),
    # forbidden 403
    Case("member records a purchase", 403, "forbidden", lambda a: a.call("POST", "/v1/purchases", PURCHASE, as_="dan")),
    Case("member refunds", 403, "forbidden",
         lambda a: a.call("POST", "/v1/purchases/O-1/refunds", {"refund_id": "R", "amount_minor": 1}, as_="dan")),
    Case("staff adjusts", 403, "forbidden",
         lambda a: a.call("POST", "/v1/adjustments", {"adjustment_id": "A-1", "member_id": "dan", "points": 5,
                                                      "reason": "r"}, **STAFF)),
    Case("staff changes the program", 403, "forbidden",
         lambda a: a.call("PUT", "/v1/program", {"points_per_currency_unit": 9, "referral_rates_bps": [],
                                                 "hold_days": 0, "currency": "CNY"}, **STAFF)),
    Case("member reads another member", 403, "forbidden", lambda a: a.call("GET", "/v1/members/bob", as_="dan")),
    Case("member reads another ledger", 403, "forbidden", lambda a: a.call("GET", "/v1/members/bob/ledger", as_="dan")),
    Case("staff verifies", 403, "forbidden", lambda a: a.call("GET", "/v1/members/dan/ledger/verify", **STAFF)),
    # not-found 404
    Case("purchase for an unknown member", 404, "not-found",
         lambda a: a.call("POST", "/v1/purchases", {**PURCHASE, "member_id": "nobody"}, **STAFF)),
    Case("refund of an unknown order", 404, "not-found",
         lambda a: a.call("POST", "/v1/purchases/NOPE/refunds", {"refund_id": "R", "amount_minor": 1}, **STAFF)),
    Case("unknown member", 404, "not-found", lambda a: a.call("GET", "/v1/members/nobody", **STAFF)),
    Case("unknown member's ledger", 404, "not-found", lambda a: a.call("GET", "/v1/members/nobody/ledger", **STAFF)),
    Case("me before signing up", 404, "not-found", lambda a: a.call("GET", "/v1/members/me", as_="stranger")),
    Case("redeem before signing up", 404, "not-found",
         lambda a: a.call("POST", "/v1/redemptions", {"points": 1, "reward": "x"}, as_="stranger",
                          headers={"Idempotency-Key": "k"})),
    Case("adjust an unknown member", 404, "not-found",
         lambda a: a.call("POST", "/v1/adjustments", {"adjustment_id": "A-9", "member_id": "nobody", "points": 5,
                                                      "reason": "r"}, **ADMIN)),
    Case("unknown program version", 404, "not-found", lambda a: a.call("GET", "/v1/program/versions/7", as_="dan")),
    Case("unknown route", 404, "not-found", lambda a: a.call("GET", "/v2/anything", as_="dan")),
    # email-not-verified 422 (API-additions.md, "Identity at sign-up"): the member's email is the token's
    Case("sign up with somebody else's email", 422, "email-not-verified",
         lambda a: a.call("POST", "/v1/members", {"email": "victim@example.com", "display_name": "Eve",
                                                  "birthday": "1990-11-23", "marketing_opt_in": True}, as_="eve")),
    Case("sign-up display name with a line break", 422, "validation-error",
         lambda a: a.call("POST", "/v1/members", {"email": "eve@example.com", "display_name": "Eve\nBcc: x"},
                          as_="eve")),
    Case("sign-up display name with a bidirectional override", 422, "validation-error",
         lambda a: a.call("POST", "/v1/members", {"email": "eve@example.com", "display_name": "Eve\u202egnp.exe"},
                          as_="eve")),
    Case("preferences cannot change the display name", 422, "validation-error",
         lambda a: a.call("PATCH", "/v1/members/me/preferences", {"display_name": "www.evil.example"}, as_="dan")),
    # member-exists 409
    Case("sign up twice", 409, "member-exists",
         lambda a: a.call("POST", "/v1/members", {"email": "dan@example.com", "display_name": "Dan"}, as_="dan")),
    # unknown-referral-code 422
    Case("sign up with a code nobody owns", 422, "unknown-referral-code",
         lambda a: a.call("POST", "/v1/members", {"email": "eve@example.com", "display_name": "Eve",
                                                  "referral_code": "ZZZZZZZZ"}, as_="eve")),
    Case("sign up with a code that cannot exist", 422, "unknown-referral-code",
         lambda a: a.call("POST", "/v1/members", {"email": "eve@example.com", "display_name": "Eve",
                                                  "referral_code": "O0O0O0O0"}, as_="eve")),
    # idempotency-mismatch 409
    Case("order id reused for another amount", 409, "idempotency-mismatch",
         lambda a: a.call("POST", "/v1/purchases", {**PURCHASE, "order_id": "O-1"}, **STAFF)),
    # insufficient-points 409
    Case("redeem more than available", 409, "insufficient-points",
         lambda a: a.call("POST", "/v1/redemptions", {"points": 1, "reward": "x"}, as_="dan",
                          headers={"Idempotency-Key": "k"})),
    # refund-exceeds-purchase 422
    Case("refund more than the purchase", 422, "refund-exceeds-purchase",
         lambda a: a.call("POST", "/v1/purchases/O-1/refunds", {"refund_id": "R", "amount_minor": 10001}, **STAFF)),
    # idempotency-key-required 400
    Case("redeem without a key", 400, "idempotency-key-required",
         lambda a: a.call("POST", "/v1/redemptions", {"points": 1, "reward": "x"}, as_="dan")),
    # beyond the table: a body that is not JSON at all
    Case("form-encoded body", 415, "unsupported-media-type",
         lambda a: a.call("POST", "/v1/purchases", raw=b"a=b",
                          headers={"Content-Type": "application/x-www-form-urlencoded"}, **STAFF)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_refused_requests_answer_problem_json_and_write_nothing(api: Api, case: Case) -> None:
    _setup(api)
    before = dump_tables()
    reply = case.request(api)
    assert (reply.status, reply.slug) == (case.status, case.slug), reply.body
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.body["status"] == case.status and reply.body["title"] and reply.body["detail"]
    if case.slug == "validation-error":
        assert reply.body["errors"] and all({"loc", "msg"} <= set(e) for e in reply.body["errors"])
    assert dump_tables() == before


def test_every_slug_of_the_contract_is_exercised() -> None:
    contract = {("validation-error", 422), ("unauthorized", 401), ("forbidden", 403), ("not-found", 404),
                ("member-exists", 409), ("unknown-referral-code", 422), ("idempotency-mismatch", 409),
                ("email-not-verified", 422),
                ("insufficient-points", 409), ("refund-exceeds-purchase", 422), ("idempotency-key-required", 400)}
    assert contract <= {(c.slug, c.status) for c in CASES}

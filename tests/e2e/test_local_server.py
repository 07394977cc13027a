"""The ledger core's story over HTTP against `python -m localdev`, exactly as a user drives `make run`."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Client

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_the_ledger_core_story(base_url: str) -> None:
    http = Client(base_url)
    staff, admin = http.login("pos-1", "staff"), http.login("owner", "admin")

    # 1. Alice signs up; Bob with Alice's code; Carol with Bob's; Dan with Carol's.
    code = None
    for name in ("alice", "bob", "carol", "dan"):
        http.login(name)
        body = {"email": f"{name}@example.com", "display_name": name.title()}
        if code:
            body["referral_code"] = code
        reply = http("POST", "/v1/members", name, body)
        assert reply.status_code == 201, reply.text
        code = reply.json()["referral_code"]

    # 2. Staff record Dan's purchase of 129.00 CNY.
    now = http("GET", "/local/clock").json()["now"]
    purchase = {"order_id": "POS-2026-000123", "member_id": "dan", "amount_minor": 12900, "currency": "CNY",
                "occurred_at": now}
    first = http("POST", "/v1/purchases", staff, purchase)
    assert first.status_code == 201
    assert [(c["member_id"], c["level"], c["points"]) for c in first.json()["credits"]] == [
        ("dan", 0, 129), ("carol", 1, 12), ("bob", 2, 6)]

    # 3. The same purchase again changes nothing; another amount under the same id is refused.
    again = http("POST", "/v1/purchases", staff, purchase)
    assert (again.status_code, again.json()) == (200, first.json())
    changed = http("POST", "/v1/purchases", staff, {**purchase, "amount_minor": 13900})
    assert changed.status_code == 409 and changed.json()["type"].endswith("/idempotency-mismatch")
    assert changed.headers["content-type"] == "application/problem+json"

    # 4. Seven days later the points are available; Dan redeems 100; more than what is left is refused.
    assert http("GET", "/v1/members/me", "dan").json()["balances"]["points"]["available"] == 0
    assert http("POST", "/local/clock", body={"advance_seconds": 7 * 86400}).status_code == 200
    assert http("GET", "/v1/members/me", "dan").json()["balances"]["points"] == {
        "available": 129, "pending": 0, "lifetime_earned": 129, "queued": 0, "expiring": []}
    redeemed = http("POST", "/v1/redemptions", "dan", {"points": 100, "reward": "free-car-wash"},
                    {"Idempotency-Key": "dan-wash-1"})
    assert redeemed.status_code == 201 and redeemed.json()["balances"]["points"]["available"] == 29
    refused = http("POST", "/v1/redemptions", "dan", {"points": 30, "reward": "free-car-wash"},
                   {"Idempotency-Key": "dan-wash-2"})
    assert refused.status_code == 409 and refused.json()["type"].endswith("/insufficient-points")

    # 5. An admin changes the program; refunds still reverse by the rules the credits were made under.
    program = {"points_per_currency_unit": 10, "referral_rates_bps": [5000, 5000, 5000], "hold_days": 1,
               "currency": "CNY"}
    assert http("PUT", "/v1/program", admin, program).json()["version"] == 2
    third = http("POST", "/v1/purchases/POS-2026-000123/refunds", staff, {"refund_id": "R-1", "amount_minor": 4300})
    assert third.status_code == 201
    assert [(r["member_id"], r["points"]) for r in third.json()["reversals"]] == [("dan", 43), ("carol", 4),
                                                                                 ("bob", 2)]
    rest = http("POST", "/v1/purchases/POS-2026-000123/refunds", staff, {"refund_id": "R-2", "amount_minor": 8600})
    assert [(r["member_id"], r["points"]) for r in rest.json()["reversals"]] == [("dan", 86), ("carol", 8),
                                                                                ("bob", 4)]
    assert http("GET", "/v1/members/dan", staff).json()["balances"]["points"]["available"] == -100
    below = http("POST", "/v1/redemptions", "dan", {"points": 1, "reward": "sticker"}, {"Idempotency-Key": "k-3"})
    assert below.status_code == 409
    for name in ("bob", "carol"):
        assert http("GET", f"/v1/members/{name}", staff).json()["balances"]["points"] == {
            "available": 0, "pending": 0, "lifetime_earned": 0, "queued": 0, "expiring": []}

    # 6. Verification confirms every chain and every balance.
    for name in ("alice", "bob", "carol", "dan"):
        report = http("GET", f"/v1/members/{name}/ledger/verify", admin).json()
        assert report["chain_valid"] and report["balances_match"], report

    # 7. The documents.
    document = http("GET", "/openapi.json")
    assert document.status_code == 200 and "/v1/purchases" in document.json()["paths"]
    docs = http("GET", "/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_unknown_routes_and_missing_tokens_are_problems(base_url: str) -> None:
    http = Client(base_url)
    for reply, status in ((http("GET", "/v1/members/me"), 401), (http("GET", "/nowhere"), 404)):
        assert reply.status_code == status, reply.text
        assert reply.headers["content-type"] == "application/problem+json"
        assert reply.json()["status"] == reply.status_code

"""Refunds through the API: a refund id replayed with another amount, a refund at the very second a hold
ends, and pro-rata arithmetic checked against figures worked by hand (not the code's own expression)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.support import Api, dump_tables

WEEK = 7 * 86400
HOLD_ENDS = WEEK - 30 * 60  # recorded at 09:30 with a 7-day hold: available at 09:00 a week later
LOT = "2026-11-30T09:00:00Z"


def _entries(api: Api, member: str) -> list[tuple[Any, ...]]:
    return [(e["kind"], e["bucket"], e["amount"], e["available_at"]) for e in reversed(api.ledger(member))]


def test_a_refund_id_replayed_with_another_amount_is_refused_and_writes_nothing(api: Api) -> None:
    api.chain("carol", "dan")
    assert api.purchase("O-1", "dan", 10000).status == 201
    first = api.refund("O-1", "R-1", 5000)
    assert first.status == 201, first.body
    before = dump_tables()

    for amount in (1000, 5001, 6000):  # less, a little more, more than is left of the order
        reused = api.refund("O-1", "R-1", amount)
        assert (reused.status, reused.slug) == (409, "idempotency-mismatch"), (amount, reused.body)
        assert dump_tables() == before, amount

    again = api.refund("O-1", "R-1", 5000)
    assert (again.status, again.body) == (200, first.body)
    assert dump_tables() == before
    assert api.points("dan") == {"available": 0, "pending": 50, "lifetime_earned": 50}


def test_a_refund_at_the_very_second_the_hold_ends_comes_out_of_available(api: Api, clock) -> None:
    """From the second a hold ends its points are available (a read already shows them so); a refund at that
    second is written after the release pair, out of available."""
    api.chain("carol", "dan")
    assert api.purchase("O-1", "dan", 10000).status == 201
    clock.advance(HOLD_ENDS)
    assert api.points("dan") == {"available": 100, "pending": 0, "lifetime_earned": 100}

    refund = api.refund("O-1", "R-1", 5000)
    assert refund.status == 201, refund.body
    assert _entries(api, "dan") == [
        ("purchase", "pending", 100, LOT), ("release", "pending", -100, LOT), ("release", "available", 100, LOT),
        ("refund", "available", -50, None)]
    assert _entries(api, "carol") == [
        ("referral", "pending", 10, LOT), ("release", "pending", -10, LOT), ("release", "available", 10, LOT),
        ("refund", "available", -5, None)]
    assert api.points("dan") == {"available": 50, "pending": 0, "lifetime_earned": 50}
    assert api.points("carol") == {"available": 5, "pending": 0, "lifetime_earned": 5}
    for member in ("carol", "dan"):
        report = api.verify(member)
        assert report["chain_valid"] and report["balances_match"], report


def test_a_refund_one_second_before_the_hold_ends_comes_out_of_pending(api: Api, clock) -> None:
    api.chain("carol", "dan")
    assert api.purchase("O-1", "dan", 10000).status == 201
    clock.advance(HOLD_ENDS - 1)

    refund = api.refund("O-1", "R-1", 5000)
    assert refund.status == 201, refund.body
    assert _entries(api, "dan") == [("purchase", "pending", 100, LOT), ("refund", "pending", -50, LOT)]
    assert _entries(api, "carol") == [("referral", "pending", 10, LOT), ("refund", "pending", -5, LOT)]
    assert api.points("dan") == {"available": 0, "pending": 50, "lifetime_earned": 50}
    assert api.points("carol") == {"available": 0, "pending": 5, "lifetime_earned": 5}
    clock.advance(1)  # what is left of the lot is released at its hour
    assert api.points("dan") == {"available": 50, "pending": 0, "lifetime_earned": 50}
    assert api.points("carol") == {"available": 5, "pending": 0, "lifetime_earned": 5}
    for member in ("carol", "dan"):
        report = api.verify(member)
        assert report["chain_valid"] and report["balances_match"], report


def test_partial_refunds_reverse_the_worked_examples(api: Api) -> None:
    """Worked by hand from API.md for a 12,900 purchase crediting 129 / 12 / 6: after refunds totalling R each
    credit c has been reversed by floor(c x R / 12900) in total.

    R = 12,899: 128 (128.99), 11 (11.999), 5 (5.9995): rounding instead of flooring would take 129, 12, 6.
    R = 12,900: 129, 12, 6, so the last fen reverses 1, 1, 1.
    """
    api.chain("bob", "carol", "dan")
    assert api.purchase("O-1", "dan", 12900).status == 201
    almost = api.refund("O-1", "R-1", 12899)
    assert almost.status == 201, almost.body
    assert almost.body["reversals"] == [{"member_id": "dan", "level": 0, "points": 128, "status": "posted"},
                                        {"member_id": "carol", "level": 1, "points": 11, "status": "queued"},
                                        {"member_id": "bob", "level": 2, "points": 5, "status": "queued"}]
    assert [api.points(m)["pending"] for m in ("dan", "carol", "bob")] == [1, 1, 1]
    last = api.refund("O-1", "R-2", 1)
    assert [r["points"] for r in last.body["reversals"]] == [1, 1, 1]
    for member in ("dan", "carol", "bob"):
        assert api.points(member) == {"available": 0, "pending": 0, "lifetime_earned": 0}


def test_small_refunds_reverse_nothing_until_their_total_earns_a_point(api: Api) -> None:
    """A 10,001 purchase credits 100 / 10. Refunds of 50 each: floor(100 x 50 / 10001) = 0, floor(100 x 100 /
    10001) = 0 (99.99...), floor(100 x 150 / 10001) = 1; the referrer's 10 reach 1 only at R = 1,001."""
    api.chain("carol", "dan")
    assert api.purchase("O-1", "dan", 10001).status == 201
    reversed_points = []
    for n in range(3):
        reply = api.refund("O-1", f"R-{n}", 50)
        assert reply.status == 201, reply.body
        reversed_points.append([(r["member_id"], r["points"]) for r in reply.body["reversals"]])
    assert reversed_points == [[], [], [("dan", 1)]]
    assert api.points("dan")["pending"] == 99 and api.points("carol")["pending"] == 10
    reply = api.refund("O-1", "R-3", 851)  # R = 1,001: 100 x 1001 / 10001 = 10.0089...; 10 x 1001 / 10001 = 1.0009
    assert [(r["member_id"], r["points"]) for r in reply.body["reversals"]] == [("dan", 9), ("carol", 1)]


def test_a_refund_that_would_break_the_ledgers_rules_is_a_loud_500_not_busy(api: Api,
                                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A refund re-reads and retries when the accounts it read are newer than the purchase record (a rival
    refund); when nothing moved, a posting the ledger refuses is a bug: it must answer 500 at once (and be
    logged), not look like load after eight retries (503 busy)."""
    import loyalty.purchases.usecases as usecases
    from loyalty.purchases.domain import reverse_refund

    def over_reversing(*args: Any, **kwargs: Any) -> Any:
        return [replace(p, amount=p.amount * 10) for p in reverse_refund(*args, **kwargs)]  # more than the lot holds

    api.chain("carol", "dan")
    assert api.purchase("O-1", "dan", 10000).status == 201
    before = dump_tables()
    monkeypatch.setattr(usecases, "reverse_refund", over_reversing)
    reply = api.refund("O-1", "R-1", 5000)
    assert (reply.status, reply.slug) == (500, "internal-error"), reply.body
    assert dump_tables() == before

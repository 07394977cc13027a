"""A write that loses a race to the same member re-reads and retries; the chain stays dense."""

from __future__ import annotations

from typing import Any

import pytest

from loyalty import wiring
from loyalty.ledger.dynamodb import DynamoLedgerStore
from tests.support import Api


def test_a_purchase_that_loses_the_race_to_an_adjustment_retries(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    api.chain("carol", "dan")
    real_commit = DynamoLedgerStore.commit
    interfered: list[str] = []

    def commit_after_a_rival(self: DynamoLedgerStore, write: Any) -> None:
        if write.operation is not None and write.operation.key.startswith("purchase/") and not interfered:
            interfered.append(write.operation.key)
            # Another writer reaches Dan's account between this purchase's read and its write.
            outcome = wiring.services().adjustments.adjust(adjustment_id="rival", member_id="dan", points=5,
                                                      reason="race", requested_by="test")
            assert not outcome.replayed
        real_commit(self, write)

    monkeypatch.setattr(DynamoLedgerStore, "commit", commit_after_a_rival)
    reply = api.purchase("O-1", "dan", 10000)
    assert reply.status == 201 and interfered == ["purchase/O-1"]
    entries = list(reversed(api.ledger("dan")))
    assert [(e["seq"], e["kind"]) for e in entries] == [(1, "adjustment"), (2, "purchase")]
    assert api.points("dan") == {"available": 5, "pending": 100, "lifetime_earned": 105}
    assert api.verify("dan")["chain_valid"] and api.verify("carol")["balances_match"]


def test_two_redemptions_for_the_last_points_cannot_both_win(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    api.sign_up("dan")
    api.call("POST", "/v1/adjustments", {"adjustment_id": "A-1", "member_id": "dan", "points": 100,
                                         "reason": "welcome"}, as_="boss", groups=("admin",))
    real_commit = DynamoLedgerStore.commit
    rival: list[Any] = []

    def commit_after_a_rival(self: DynamoLedgerStore, write: Any) -> None:
        if write.operation is not None and write.operation.key == "redemption/dan/first" and not rival:
            rival.append(wiring.services().redemptions.redeem(member_id="dan", idempotency_key="second", points=80,
                                                         reward="wash"))
        real_commit(self, write)

    monkeypatch.setattr(DynamoLedgerStore, "commit", commit_after_a_rival)
    first = api.redeem("dan", 80, "first")
    assert rival and rival[0].result.balances["points"]["available"] == 20
    assert (first.status, first.slug) == (409, "insufficient-points")
    assert api.points("dan")["available"] == 20
    assert api.verify("dan")["balances_match"]

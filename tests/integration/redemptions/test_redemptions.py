"""Redemptions through the API: the no-overdraft edge, and a key replayed with another body."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from loyalty.ledger.dynamodb import DynamoLedgerStore
from tests.support import Api, dump_tables

WEEK = 7 * 86400
HOLD_ENDS = WEEK - 30 * 60  # a purchase recorded at 09:30 is held until 09:00 a week later


def _give(api: Api, member: str, points: int, adjustment_id: str = "A-1") -> None:
    reply = api.call("POST", "/v1/adjustments", {"adjustment_id": adjustment_id, "member_id": member,
                                                 "points": points, "reason": "welcome"}, as_="boss", groups=("admin",))
    assert reply.status == 201, reply.body


def test_a_redemption_of_exactly_the_available_balance_succeeds(api: Api) -> None:
    """Available equal to the points asked is enough (a `>` for `>=` in the check, or in the write's condition on
    the stored balance, refused this with 409 or 503)."""
    api.sign_up("dan")
    _give(api, "dan", 100)
    before = dump_tables()
    one_more = api.redeem("dan", 101, "k-over")
    assert (one_more.status, one_more.slug) == (409, "insufficient-points")
    assert dump_tables() == before  # refused, nothing written

    exact = api.redeem("dan", 100, "k-all")
    assert exact.status == 201, exact.body
    assert exact.body["balances"]["points"] == {"available": 0, "pending": 0, "lifetime_earned": 100, "expiring": []}
    assert api.points("dan") == {"available": 0, "pending": 0, "lifetime_earned": 100}
    assert api.redeem("dan", 1, "k-after").slug == "insufficient-points"
    assert [(e["kind"], e["amount"]) for e in api.ledger("dan")] == [("redemption", -100), ("adjustment", 100)]
    assert api.verify("dan")["balances_match"]


def test_a_redemption_of_exactly_the_points_whose_hold_ended_this_second(api: Api, clock) -> None:
    """The whole balance comes from a lot released by the redemption's own write: the stored available the write
    is conditioned on is 0, and must be at least 129 - 129 = 0."""
    api.sign_up("dan")
    assert api.purchase("O-1", "dan", 12900).status == 201
    clock.advance(HOLD_ENDS)
    assert api.redeem("dan", 130, "k-over").slug == "insufficient-points"
    exact = api.redeem("dan", 129, "k-all")
    assert exact.status == 201, exact.body
    assert api.points("dan") == {"available": 0, "pending": 0, "lifetime_earned": 129}
    assert [(e["kind"], e["bucket"], e["amount"]) for e in reversed(api.ledger("dan"))] == [
        ("purchase", "pending", 129), ("release", "pending", -129), ("release", "available", 129),
        ("redemption", "available", -129)]
    assert api.verify("dan")["balances_match"]


@pytest.mark.parametrize("other", [
    {"points": 30},  # fewer points: would be affordable as a new redemption
    {"points": 80},  # more points than are left
    {"reward": "free-coffee"},  # the same points for another reward
], ids=["fewer-points", "more-points", "another-reward"])
def test_a_key_replayed_with_another_body_is_refused_and_writes_nothing(api: Api, other: dict[str, object]) -> None:
    """The fingerprint covers both points and reward: a key reused for another request is 409
    idempotency-mismatch, never the first answer again (which would tell the client it spent what it did not)."""
    api.sign_up("dan")
    _give(api, "dan", 100)
    first = api.redeem("dan", 50, "k-1")
    assert first.status == 201, first.body
    before = dump_tables()

    body = {"points": 50, "reward": "free-car-wash", **other}
    reused = api.call("POST", "/v1/redemptions", body, as_="dan", headers={"Idempotency-Key": "k-1"})
    assert (reused.status, reused.slug) == (409, "idempotency-mismatch"), reused.body
    assert dump_tables() == before

    again = api.redeem("dan", 50, "k-1")
    assert (again.status, again.body) == (200, first.body)
    assert dump_tables() == before
    assert api.points("dan")["available"] == 50


def test_the_write_itself_refuses_a_spend_the_stored_balance_no_longer_covers(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The redemption's own no-overdraft condition, on its own: between the read and the write the stored
    available falls from 100 to 10 *without* the account's seq moving (a stand-in for any change the seq
    condition would not see; none does today, which is why no race through the API can show this guard). The
    write must be refused; the retry re-reads and answers insufficient-points."""
    api.sign_up("dan")
    _give(api, "dan", 100)
    accounts = boto3.resource("dynamodb").Table(os.environ["ACCOUNTS_TABLE"])
    real_commit = DynamoLedgerStore.commit
    edited: list[str] = []

    def commit_after_the_balance_fell(self: DynamoLedgerStore, write: Any) -> None:
        if write.operation is not None and write.operation.key == "redemption/dan/k-1" and not edited:
            edited.append(write.operation.key)
            accounts.update_item(Key={"member_id": "dan"},
                                 UpdateExpression="SET balances.points.buckets.available = :a",
                                 ExpressionAttributeValues={":a": 10})
        real_commit(self, write)

    monkeypatch.setattr(DynamoLedgerStore, "commit", commit_after_the_balance_fell)
    reply = api.redeem("dan", 80, "k-1")
    assert edited == ["redemption/dan/k-1"]
    assert (reply.status, reply.slug) == (409, "insufficient-points"), reply.body
    assert [e["kind"] for e in api.ledger("dan")] == ["adjustment"]
    assert api.points("dan")["available"] == 10

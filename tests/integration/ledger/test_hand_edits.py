"""Verification through the API after a hand edit of a pending lot in the Accounts table: the chain is intact
and the pending total unchanged, only the lots (when held points become available) disagree with the entries."""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from tests.support import Api

LOT = "2026-11-30T09:00:00Z"  # a purchase recorded at 09:30 with a 7-day hold


def _set_lots(member: str, lots: dict[str, int]) -> None:
    table = boto3.resource("dynamodb").Table(os.environ["ACCOUNTS_TABLE"])
    table.update_item(Key={"member_id": member}, UpdateExpression="SET balances.points.lots = :lots",
                      ExpressionAttributeValues={":lots": lots})


def _lots(member: str) -> dict[str, Any]:
    table = boto3.resource("dynamodb").Table(os.environ["ACCOUNTS_TABLE"])
    item = table.get_item(Key={"member_id": member}, ConsistentRead=True)["Item"]
    return {at: int(amount) for at, amount in item["balances"]["points"]["lots"].items()}


@pytest.mark.parametrize(("lots", "stored"), [
    ({"2026-11-30T10:00:00Z": 129}, "{2026-11-30T10:00:00Z: 129}"),  # moved an hour later, same sum
    ({"2026-11-23T10:00:00Z": 129}, "{2026-11-23T10:00:00Z: 129}"),  # moved to an hour already past: spendable now
    ({LOT: 100, "2026-11-30T10:00:00Z": 29}, "{2026-11-30T09:00:00Z: 100, 2026-11-30T10:00:00Z: 29}"),  # split
    ({LOT: 130}, "{2026-11-30T09:00:00Z: 130}"),  # its amount changed (pending itself left at 129)
    ({}, "{}"),  # the lot removed: the points would stay pending for ever
], ids=["moved-later", "moved-into-the-past", "split", "amount", "removed"])
def test_a_hand_edited_pending_lot_does_not_match_the_entries(api: Api, lots: dict[str, int], stored: str) -> None:
    api.sign_up("dan")
    assert api.purchase("O-1", "dan", 12900).status == 201
    assert _lots("dan") == {LOT: 129}
    intact = api.verify("dan")
    assert (intact["chain_valid"], intact["balances_match"]) == (True, True)

    _set_lots("dan", lots)
    report = api.verify("dan")
    assert (report["chain_valid"], report["balances_match"], report["first_invalid_seq"]) == (True, False, None)
    assert f"points/lots: the entries leave {{{LOT}: 129}}, stored {stored}" in report["problems"], report

"""Surprises on DynamoDB, in the Earning table (pk/sk strings):

- ``SURPRISE#COMMIT`` / ``<date>``: the day's commitment (SHA-256 of its secret, hex), put once when first
  published: a master secret rotated later cannot change it silently;
- ``SURPRISE#BUDGET`` / ``<date>``: ``paid``, the surprise points paid that day, moved by each paid purchase's own
  transaction under ``paid <= daily_budget`` (a number never written counts as 0);
- ``SURPRISE#DRAWS#<date>`` / ``<order_id>``: one purchase's draw (hit, points, paid, the rule it was drawn under),
  put once in the purchase's transaction: the day's reveal lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from loyalty.ledger.store import Record
from loyalty.shared.dynamo import Dynamo, to_item
from loyalty.surprises.domain import Draw, SurpriseBudgetSpent

COMMITS, BUDGETS = "SURPRISE#COMMIT", "SURPRISE#BUDGET"


def draws_pk(day: date) -> str:
    return f"SURPRISE#DRAWS#{day.isoformat()}"


def draw_item(day: date, drawn: Draw) -> dict[str, Any]:
    return {"pk": draws_pk(day), "sk": drawn.order_id, "hit": drawn.hit, "points": drawn.points, "paid": drawn.paid,
            "chance_bps": drawn.chance_bps, "min_points": drawn.min_points, "max_points": drawn.max_points}


def draw_from_item(item: dict[str, Any]) -> Draw:
    return Draw(order_id=item["sk"], hit=bool(item["hit"]), points=int(item["points"]), paid=bool(item["paid"]),
                chance_bps=int(item["chance_bps"]), min_points=int(item["min_points"]),
                max_points=int(item["max_points"]))


class DynamoSurpriseStore:
    """``surprises.store.SurpriseStore`` on DynamoDB."""

    def __init__(self, db: Dynamo, table: str) -> None:
        self._db = db
        self._table = table

    def commitments(self, days: Sequence[date]) -> dict[date, str]:
        keys = [{"pk": COMMITS, "sk": d.isoformat()} for d in days]
        found = self._db.batch_get({self._table: keys}).get(self._table, []) if keys else []
        return {date.fromisoformat(i["sk"]): str(i["commitment"]) for i in found}

    def record_commitment(self, day: date, commitment: str, published_at: str) -> str:
        item = {"pk": COMMITS, "sk": day.isoformat(), "commitment": commitment, "published_at": published_at}
        if self._db.put_new(self._table, item, "sk"):
            return commitment
        return self.commitments([day])[day]  # put once (by a rival just now), never deleted

    def draws(self, day: date, *, limit: int, after: str | None) -> tuple[list[Draw], str | None]:
        kwargs: dict[str, Any] = {"TableName": self._table, "KeyConditionExpression": "pk = :p",
                                  "ExpressionAttributeValues": to_item({":p": draws_pk(day)}), "Limit": limit + 1}
        if after is not None:
            kwargs["ExclusiveStartKey"] = to_item({"pk": draws_pk(day), "sk": after})
        found: list[Draw] = []
        for item in self._db.query(**kwargs):
            found.append(draw_from_item(item))
            if len(found) > limit:
                break
        more = len(found) > limit
        found = found[:limit]
        return found, found[-1].order_id if more and found else None

    def paid(self, day: date) -> int:
        found = self._db.get(self._table, {"pk": BUDGETS, "sk": day.isoformat()})
        return int(found.get("paid", 0)) if found else 0

    def draw_records(self, day: date, drawn: Draw, budget: int) -> list[Record]:
        records = [Record(self._table, draw_item(day, drawn))]
        if drawn.paid:
            records.append(Record(self._table, {"pk": BUDGETS, "sk": day.isoformat()}, add={"paid": drawn.points},
                                  at_most={"paid": budget - drawn.points}, create=True,
                                  refusal=SurpriseBudgetSpent(f"{day} has no {drawn.points} surprise points left")))
        return records

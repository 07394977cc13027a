"""The catalogue on DynamoDB, in the Wallet table: ``REWARD#`` / ``<reward_id>`` (one partition: listed with a
Query), ``stock`` a number the redemptions move under their own condition (absent: unlimited)."""

from __future__ import annotations

from typing import Any

from loyalty.ledger.store import Record
from loyalty.rewards.domain import OutOfStock, Reward
from loyalty.shared.dynamo import Dynamo, to_item

REWARDS = "REWARD#"


def reward_item(reward: Reward) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": REWARDS, "sk": reward.reward_id, "name": reward.name, "points": reward.points}
    if reward.stock is not None:
        item["stock"] = reward.stock
    if reward.coupon_template_id is not None:
        item["coupon_template_id"] = reward.coupon_template_id
    return item


def reward_from_item(item: dict[str, Any]) -> Reward:
    return Reward(reward_id=item["sk"], name=item["name"], points=item["points"], stock=item.get("stock"),
                  coupon_template_id=item.get("coupon_template_id"))


class DynamoRewardStore:
    def __init__(self, db: Dynamo, table: str) -> None:
        self._db, self._table = db, table

    def put(self, reward: Reward) -> None:
        self._db.call("put_item", TableName=self._table, Item=to_item(reward_item(reward)))

    def reward(self, reward_id: str) -> Reward | None:
        item = self._db.get(self._table, {"pk": REWARDS, "sk": reward_id})
        return reward_from_item(item) if item else None

    def rewards(self) -> list[Reward]:
        return [reward_from_item(i) for i in self._db.query(
            TableName=self._table, KeyConditionExpression="pk = :p", ExpressionAttributeValues=to_item({":p": REWARDS}),
            ConsistentRead=True)]

    def take_one(self, reward: Reward) -> Record:
        """One unit of stock, taken in the redemption's transaction where one is left (else ``out-of-stock``)."""
        return Record(self._table, {"pk": REWARDS, "sk": reward.reward_id}, add={"stock": -1}, at_least={"stock": 1},
                      refusal=OutOfStock(f"{reward.name} is out of stock."))

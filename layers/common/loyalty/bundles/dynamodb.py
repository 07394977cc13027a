"""Bundle products and cards on DynamoDB, in the Wallet table.

| pk | sk | what |
|---|---|---|
| ``BUNDLES`` | ``BUNDLE#<product_id>`` | a product (one partition: products are few, a till lists them) |
| ``CARD#<card_id>`` | ``CARD`` | a sold card, put once in its sale's transaction, never updated (what is left |
|  |  | on it is its ledger balance) |
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loyalty.bundles.domain import Card, Product
from loyalty.ledger.store import Record
from loyalty.shared.dynamo import Dynamo, to_item

BUNDLES = "BUNDLES"
CARD_SK = "CARD"


def product_key(product_id: str) -> dict[str, str]:
    return {"pk": BUNDLES, "sk": f"BUNDLE#{product_id}"}


def card_key(card_id: str) -> dict[str, str]:
    return {"pk": f"CARD#{card_id}", "sk": CARD_SK}


def product_item(product: Product) -> dict[str, Any]:
    return {**product_key(product.product_id), "product_id": product.product_id, "name": product.name,
            "uses": product.uses, "price_minor": product.price_minor, "valid_days": product.valid_days,
            "updated_at": product.updated_at}


def product_from_item(item: dict[str, Any]) -> Product:
    return Product(product_id=item["product_id"], name=item["name"], uses=int(item["uses"]),
                   price_minor=int(item["price_minor"]), valid_days=int(item["valid_days"]),
                   updated_at=item["updated_at"])


def card_item(card: Card) -> dict[str, Any]:
    return {**card_key(card.card_id), "card_id": card.card_id, "product_id": card.product_id, "name": card.name,
            "uses": card.uses, "price_minor": card.price_minor, "member_id": card.member_id, "sale_id": card.sale_id,
            "sold_at": card.sold_at, "expires_at": card.expires_at}


def card_from_item(item: dict[str, Any]) -> Card:
    return Card(card_id=item["card_id"], product_id=item["product_id"], name=item["name"], uses=int(item["uses"]),
                price_minor=int(item["price_minor"]), member_id=item["member_id"], sale_id=item["sale_id"],
                sold_at=item["sold_at"], expires_at=item["expires_at"])


class DynamoBundleStore:
    """``bundles.store.BundleStore`` on DynamoDB."""

    def __init__(self, db: Dynamo, table: str) -> None:
        self._db = db
        self._table = table

    def product(self, product_id: str) -> Product | None:
        item = self._db.get(self._table, product_key(product_id))
        return product_from_item(item) if item else None

    def products(self) -> list[Product]:
        found = self._db.query(TableName=self._table, KeyConditionExpression="pk = :p AND begins_with(sk, :b)",
                               ExpressionAttributeValues=to_item({":p": BUNDLES, ":b": "BUNDLE#"}),
                               ConsistentRead=True)
        return [product_from_item(item) for item in found]

    def save_product(self, product: Product) -> None:
        self._db.call("put_item", TableName=self._table, Item=to_item(product_item(product)))

    def card(self, card_id: str) -> Card | None:
        item = self._db.get(self._table, card_key(card_id))
        return card_from_item(item) if item else None

    def cards(self, card_ids: Sequence[str]) -> dict[str, Card]:
        unique = list(dict.fromkeys(card_ids))
        found: dict[str, Card] = {}
        for start in range(0, len(unique), 100):
            items = self._db.batch_get({self._table: [card_key(c) for c in unique[start:start + 100]]})
            found.update((card.card_id, card) for card in map(card_from_item, items.get(self._table, [])))
        return found

    def card_record(self, card: Card) -> Record:
        return Record(self._table, card_item(card))

"""The port bundle cards own: products and cards (``bundles.dynamodb``: the Wallet table)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from loyalty.bundles.domain import Card, Product
from loyalty.ledger.store import Record


class BundleStore(Protocol):
    def product(self, product_id: str) -> Product | None: ...

    def products(self) -> list[Product]: ...

    def save_product(self, product: Product) -> None:
        """Put the product (a new one, or its new terms: cards sold already keep theirs)."""
        ...

    def card(self, card_id: str) -> Card | None: ...

    def cards(self, card_ids: Sequence[str]) -> dict[str, Card]:
        """The cards of these ids that exist (one read per 100)."""
        ...

    def card_record(self, card: Card) -> Record:
        """The card's item as a record of the sale's transaction: put once."""
        ...

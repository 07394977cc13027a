"""What the metrics need from storage (``metrics.dynamodb``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from loyalty.metrics.domain import Buyer, Fact, Totals


@dataclass(frozen=True)
class Sale:
    """A recorded purchase as a refund's figures need it: who bought, when it occurred, and the commission it
    earned a partner (and when that commission's hold ends)."""

    buyer: str
    occurred_at: str
    commission_minor: int = 0
    commission_held_until: str | None = None


class MetricsStore(Protocol):
    # --- the aggregator's side
    def sales(self, order_ids: Sequence[str]) -> dict[str, Sale]:
        """The recorded purchases of these orders (from their operation records)."""
        ...

    def buyers_of(self, member_ids: Sequence[str]) -> dict[str, Buyer]:
        """Of these members (those that exist): whether they have a referrer, and their partner."""
        ...

    def count(self, facts: Sequence[Fact], now: str) -> list[Fact]:
        """Add each fact not counted before to the figures, exactly once; the facts counted now."""
        ...

    def lower_first_purchase(self, buyer: str, day: str) -> None:
        """Make ``day`` the buyer's first purchase day if it is earlier than the one known (idempotent)."""
        ...

    # --- the dashboard's side
    def days(self, first: str, last: str) -> dict[str, dict[str, int]]:
        """Each day's counters, for the days from ``first`` to ``last`` that have any."""
        ...

    def through(self, last: str) -> Totals:
        """The counters of every day up to ``last``, added up."""
        ...

    def buyers(self, first: str, last: str) -> Mapping[str, int]:
        """The members who bought between ``first`` and ``last``, with how many purchases each."""
        ...

    def first_buyers(self, first: str, last: str) -> set[str]:
        """The members whose first purchase ever was between ``first`` and ``last``."""
        ...

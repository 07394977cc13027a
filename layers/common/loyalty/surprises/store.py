"""What the surprises feature needs stored (the port; ``dynamodb`` is the adapter)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from loyalty.ledger.store import Record
from loyalty.surprises.domain import Draw


class SurpriseStore(Protocol):
    def commitments(self, days: Sequence[date]) -> dict[date, str]:
        """The recorded commitments of these days (a day never published is left out), in one read."""
        ...

    def record_commitment(self, day: date, commitment: str, published_at: str) -> str:
        """Record the day's commitment unless one is recorded already (then nothing changes); the recorded one."""
        ...

    def draws(self, day: date, *, limit: int, after: str | None) -> tuple[list[Draw], str | None]:
        """Up to ``limit`` draws of the day by order id, after ``after``; and the last order id when more follow."""
        ...

    def paid(self, day: date) -> int:
        """The surprise points the day's budget has paid."""
        ...

    def draw_records(self, day: date, drawn: Draw, budget: int) -> list[Record]:
        """What a purchase's transaction writes for its draw: the draw, once; for a paid hit, the day's budget moved
        by its points, at most ``budget`` in all (else the commit raises ``SurpriseBudgetSpent``)."""
        ...

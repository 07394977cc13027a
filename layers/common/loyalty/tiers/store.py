"""What tiers and statuses need from storage (``tiers.dynamodb`` implements it)."""

from __future__ import annotations

from typing import Protocol

from loyalty.tiers.domain import Standing


class StandingStore(Protocol):
    def standing(self, member_id: str) -> Standing | None:
        """The member's standing as stored, or None when nothing was ever recorded for them."""
        ...

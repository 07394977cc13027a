"""What actions need from storage (``actions.dynamodb`` implements it). The counters move in the action's own
ledger transaction, as ``Record``s this store builds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Protocol

from loyalty.ledger.store import Record
from loyalty.program.domain import ActionRule


class ActionStore(Protocol):
    def counter_records(self, member_id: str, action: str, rule: ActionRule, day: date) -> list[Record]:
        """The member's counters of the action for the local date ``day`` (its day, its month, its lifetime), each
        moved by one, and each that has a cap only while it stays within it (else ``ActionCapped``)."""
        ...

    def counts(self, member_id: str, actions: Sequence[str], day: date) -> dict[str, dict[str, int]]:
        """Per action, the member's counters for the local date ``day`` by period (``day``, ``month``,
        ``lifetime``); a counter never moved is absent."""
        ...

"""Actions on DynamoDB, in the Earning table (pk/sk strings), one partition per member and action:

- ``ACTION#<member_id>#<action>`` / ``day#2026-11-23``: ``count``, the member's actions of that local day;
- ``ACTION#<member_id>#<action>`` / ``month#2026-11``: ``count``, of that local month;
- ``ACTION#<member_id>#<action>`` / ``lifetime``: ``count``, ever.

Each is moved by one in the action's own transaction (``add={"count": 1}``), and where the programme caps it, only
while it stays at most the cap (at most ``cap - 1`` before the move): a number never written counts as zero, so the item
needs no creating first. The operation record (``action/<action_id>``, ``check-in/<member_id>/<date>``) keeps what
the action was (its ``ref`` too); the points are entries on the Ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from loyalty.actions.domain import DAY, LIFETIME, MONTH, ActionCapped, periods
from loyalty.ledger.store import Record
from loyalty.program.domain import ActionRule
from loyalty.shared.dynamo import Dynamo


def counter_key(member_id: str, action: str, sort_key: str) -> dict[str, str]:
    return {"pk": f"ACTION#{member_id}#{action}", "sk": sort_key}


class DynamoActionStore:
    """``actions.store.ActionStore`` on the Earning table."""

    def __init__(self, db: Dynamo, table: str) -> None:
        self._db, self._table = db, table

    def counter_records(self, member_id: str, action: str, rule: ActionRule, day: date) -> list[Record]:
        caps = {DAY: rule.per_day, MONTH: rule.per_month, LIFETIME: rule.lifetime}
        records = []
        for period, sort_key in periods(day).items():
            cap = caps[period]
            refusal = ActionCapped(f"{action} is capped at {cap} per {period}" if period != LIFETIME else
                                   f"{action} is capped at {cap} in a member's lifetime")
            records.append(Record(self._table, counter_key(member_id, action, sort_key), add={"count": 1},
                                  at_most={"count": cap - 1} if cap is not None else {}, create=True,
                                  refusal=refusal if cap is not None else None))
        return records

    def counts(self, member_id: str, actions: Sequence[str], day: date) -> dict[str, dict[str, int]]:
        keys = [counter_key(member_id, action, sort_key) for action in actions for sort_key in periods(day).values()]
        found: dict[str, dict[str, int]] = {}
        for start in range(0, len(keys), 100):
            got = self._db.batch_get({self._table: keys[start:start + 100]}).get(self._table, [])
            for item in got:
                action = str(item["pk"]).split("#", 2)[2]
                period = str(item["sk"]).split("#", 1)[0]
                found.setdefault(action, {})[period] = int(item.get("count", 0))
        return found



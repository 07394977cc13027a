"""Actions: what an action earns, the caps it counts against, and the refusals.

An action is credited once, exactly once by its client id (a check-in: by its member and local date). Its points go
to the member's ``available`` points at once (docs/earning-actions.md says why they are not held for review); each of
the action's caps is a counter of actions (not points) in the member's local day, local month and lifetime, moved in
the action's own ledger transaction under the condition that it stays within the cap, so caps hold under any
concurrency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from loyalty.ledger.entries import Entry
from loyalty.shared.errors import LoyaltyError

CHECK_IN = "check_in"
# The counter periods, as the sort keys of a member's counters of one action name them.
DAY, MONTH, LIFETIME = "day", "month", "lifetime"


class UnknownAction(LoyaltyError):
    slug, status, title = "unknown-action", 422, "The programme does not define this action"


class ActionCapped(LoyaltyError):
    slug, status, title = "action-capped", 409, "The action is past one of its caps"


def action_key(action_id: str) -> str:
    """The operation record of an action staff (or the till) recorded."""
    return f"action/{action_id}"


def check_in_id(day: date) -> str:
    """A check-in's action id: its local date. It has a ``/``, which a client's id cannot have, so no action staff
    record can take it; on the member's chain the entry is ``action/check_in/<date>/<member_id>``."""
    return f"{CHECK_IN}/{day.isoformat()}"


def check_in_key(member_id: str, day: date) -> str:
    """A member's check-in of a local day: one operation record per member and day, whatever ``per_day`` says."""
    return f"check-in/{member_id}/{day.isoformat()}"


def periods(day: date) -> dict[str, str]:
    """The counters an action on the local date ``day`` moves, by period: their sort keys."""
    return {DAY: f"day#{day.isoformat()}", MONTH: f"month#{day.isoformat()[:7]}", LIFETIME: LIFETIME}


@dataclass(frozen=True)
class ActionRecorded:
    """The answer to an action: its id, the points it earned, and the entry that posted them (None: worth 0)."""

    action_id: str
    member_id: str
    action: str
    points: int
    entry: Entry | None


@dataclass(frozen=True)
class ActionCount:
    """One action of the programme as a member stands with it: its points, how many the member did in the local
    day, the local month and their lifetime, and the caps (None: no cap)."""

    action: str
    points: int
    today: int
    this_month: int
    lifetime: int
    per_day: int | None
    per_month: int | None
    lifetime_cap: int | None

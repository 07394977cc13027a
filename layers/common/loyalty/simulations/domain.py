"""Rehearsing a rule change: the recorded purchases of a period replayed under proposed rules, next to what was
actually issued for them (docs/earning-simulations.md).

Nothing here writes anything but the simulation's own item: a replay reads purchase records and members' referral
paths, and adds up two columns of integers.

- **current** is what the purchase records say was credited (points credits only, not partners' commissions),
  net of every refund recorded so far, by level (0 = the buyer). A credit reversed by a refund keeps
  ``floor(points × refunded / amount)`` off it, as the ledger's refunds did.
- **proposed** is ``ProgramRules.credit_plan`` of the proposed rules for the same buyer, ancestors and amount, the
  buyer's calendar multiplier by the local date of the purchase's recording (``ProgramRules.multiplier``), net of
  the same refunds the same way.

Not replayed yet (the features are being built): tier and status multipliers (no standing is known to a replay, so
a proposed tier or status multiplier raises nobody), surprises, action points, expiry, screening (a credit held
for review counts in ``current`` as recorded, whatever its review decided).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from loyalty.program.domain import ProgramRules
from loyalty.purchases.domain import reversed_so_far
from loyalty.shared.clock import parse_rfc3339
from loyalty.shared.errors import ValidationProblem

MAX_DAYS = 366  # the longest period one simulation replays
# Dates a period may name: nothing was recorded before the first, and the last keeps every instant computable
EARLIEST, LATEST = date(2000, 1, 1), date(9998, 12, 31)
RUNNING, DONE = "running", "done"
NOT_REPLAYED = ("tier and status multipliers", "surprises", "action points", "expiry",
                "screening decisions (held credits count as recorded)")


@dataclass(frozen=True)
class Period:
    """The local dates ``first``..``last`` (both included) in ``zone``: the purchases recorded in them."""

    first: date
    last: date
    zone: str

    @classmethod
    def of(cls, first: date, last: date, zone: str) -> Period:
        for name, day in (("from", first), ("to", last)):
            if not EARLIEST <= day <= LATEST:
                raise ValidationProblem(f"{name} is a date from {EARLIEST} to {LATEST}", loc=["body", name])
        if first > last:
            raise ValidationProblem("from is after to", loc=["body", "from"])
        if (last - first).days + 1 > MAX_DAYS:
            raise ValidationProblem(f"a simulation replays at most {MAX_DAYS} days", loc=["body", "to"])
        return cls(first, last, zone)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """The instants the period starts at and ends before (local midnights, in UTC)."""
        tz = ZoneInfo(self.zone)
        start = datetime.combine(self.first, time(), tz).astimezone(UTC)
        end = datetime.combine(self.last + timedelta(days=1), time(), tz).astimezone(UTC)
        return start, end

    def day_of(self, instant: datetime) -> str:
        return instant.astimezone(ZoneInfo(self.zone)).date().isoformat()


@dataclass(frozen=True)
class RecordedPurchase:
    """A purchase as its record keeps it: who bought, the amount, what has been refunded so far, when the service
    recorded it, and the points it credited as ``(member_id, level, points)`` (commissions left out)."""

    order_id: str
    buyer: str
    amount_minor: int
    refunded_minor: int
    recorded_at: str
    credits: tuple[tuple[str, int, int], ...]


def net(points: int, purchase: RecordedPurchase) -> int:
    """A credit of ``points`` less what the purchase's refunds so far took back of it."""
    if purchase.amount_minor <= 0:
        return points
    return points - reversed_so_far(points, purchase.amount_minor, purchase.refunded_minor)


def replayed(rules: ProgramRules, purchase: RecordedPurchase, ancestors: tuple[str, ...],
             recorded: datetime | None = None) -> list[tuple[str, int, int]]:
    """What ``rules`` would have credited for the purchase, net of its refunds: ``(member_id, level, points)``."""
    at = recorded or parse_rfc3339(purchase.recorded_at)
    plan = rules.credit_plan(purchase.buyer, ancestors, purchase.amount_minor, rules.multiplier(at))
    return [(member, level, net(points, purchase)) for member, level, points in plan]


def issued(purchase: RecordedPurchase) -> list[tuple[str, int, int]]:
    """What was credited for the purchase, net of its refunds."""
    return [(member, level, net(points, purchase)) for member, level, points in purchase.credits]


def _add(levels: list[int], level: int, points: int) -> None:
    while len(levels) <= level:
        levels.append(0)
    levels[level] += points


@dataclass
class Tally:
    """The two columns, added up as purchases are replayed: overall, by level, by member and by local day."""

    purchases: int = 0
    current: list[int] = field(default_factory=list)  # by level
    proposed: list[int] = field(default_factory=list)
    members: dict[str, list[int]] = field(default_factory=dict)  # member → [current, proposed]
    buyers: set[str] = field(default_factory=set)
    days: dict[str, list[int]] = field(default_factory=dict)  # day → [purchases, current, proposed]

    def add(self, purchase: RecordedPurchase, day: str, current: Iterable[tuple[str, int, int]],
            proposed: Iterable[tuple[str, int, int]]) -> None:
        self.purchases += 1
        self.buyers.add(purchase.buyer)
        row = self.days.setdefault(day, [0, 0, 0])
        row[0] += 1
        for column, credits in ((0, current), (1, proposed)):
            levels = self.current if column == 0 else self.proposed
            for member, level, points in credits:
                _add(levels, level, points)
                self.members.setdefault(member, [0, 0])[column] += points
                row[1 + column] += points

    def merge(self, other: Tally) -> None:
        self.purchases += other.purchases
        self.buyers |= other.buyers
        for level, points in enumerate(other.current):
            _add(self.current, level, points)
        for level, points in enumerate(other.proposed):
            _add(self.proposed, level, points)
        for member, (cur, prop) in other.members.items():
            mine = self.members.setdefault(member, [0, 0])
            mine[0] += cur
            mine[1] += prop
        for day, (count, cur, prop) in other.days.items():
            mine = self.days.setdefault(day, [0, 0, 0])
            mine[0] += count
            mine[1] += cur
            mine[2] += prop

    def result(self, period: Period) -> dict[str, Any]:
        """The answer's figures: totals and by level, the change, who gains and who loses, and by day."""
        width = max(len(self.current), len(self.proposed))
        current = self.current + [0] * (width - len(self.current))
        proposed = self.proposed + [0] * (width - len(self.proposed))
        issued_now, issued_then = sum(current), sum(proposed)
        up = sum(1 for cur, prop in self.members.values() if prop > cur)
        down = sum(1 for cur, prop in self.members.values() if prop < cur)
        earners = len(self.members)
        days = [(period.first + timedelta(days=n)).isoformat() for n in range(period.days)]
        return {
            "purchases": self.purchases,
            "members": len(self.buyers),
            "current": {"points_issued": issued_now, "by_level": current},
            "proposed": {"points_issued": issued_then, "by_level": proposed},
            "change": {"points": issued_then - issued_now,
                       "bps": (issued_then - issued_now) * 10_000 // issued_now if issued_now > 0 else None},
            "earners": {"total": earners, "more": up, "fewer": down, "same": earners - up - down,
                        "more_bps": up * 10_000 // earners if earners else 0,
                        "fewer_bps": down * 10_000 // earners if earners else 0},
            "by_day": [{"date": d, "purchases": self.days.get(d, [0, 0, 0])[0],
                        "current": self.days.get(d, [0, 0, 0])[1], "proposed": self.days.get(d, [0, 0, 0])[2]}
                       for d in days],
            "not_replayed": list(NOT_REPLAYED),
        }


def replay(rules: ProgramRules, period: Period, purchases: Iterable[RecordedPurchase],
           ancestors: Mapping[str, tuple[str, ...]], tally: Tally | None = None) -> Tally:
    """Add the purchases recorded within the period to ``tally`` (others are skipped), each under both columns."""
    tally = tally if tally is not None else Tally()
    start, end = period.bounds()
    for purchase in purchases:
        at = parse_rfc3339(purchase.recorded_at)
        if not start <= at < end:
            continue
        tally.add(purchase, period.day_of(at), issued(purchase),
                  replayed(rules, purchase, ancestors.get(purchase.buyer, ()), at))
    return tally


@dataclass(frozen=True)
class Simulation:
    """A simulation as kept: what was asked (its fingerprint, the period, the proposed rules), how far it got and,
    once done, its result."""

    simulation_id: str
    fingerprint: str
    period: Period
    rules: ProgramRules
    created_at: str
    status: str = RUNNING
    progress: Mapping[str, int] = field(default_factory=dict)
    result: Mapping[str, Any] | None = None
    finished_at: str | None = None

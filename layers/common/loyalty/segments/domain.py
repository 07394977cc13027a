"""Segments' rules (docs/segments.md): a member's class by their 12-month spend rank, their grade by how recently they
bought, and what a recompute changes. No I/O.

- Class: among the N members whose net spend over the window is above zero, rank r counts the members who spent
  strictly more, plus one (so members with equal spend share a rank: ties take the better class). A: r ≤ ⌈a N⌉,
  B: r ≤ ⌈b N⌉, C: r ≤ ⌈c N⌉ (a, b, c the settings' cumulative percentages, 10/30/60 by default); D: the rest, and
  every member who spent nothing (never bought, or every purchase refunded).
- Grade: 1 when the member's last purchase (refunded or not: the visit happened) was within ``grade1_days`` days of
  today, 2 within ``grade2_days``, 3 longer ago or never. Days are the programme's local days.
- A manual segment (staff's) is kept by every recompute until staff drop it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from loyalty.shared.errors import ValidationProblem

CLASSES = ("A", "B", "C", "D")
GRADES = (1, 2, 3)
CELLS = tuple(f"{c}{g}" for c in CLASSES for g in GRADES)
COMPUTED, MANUAL = "computed", "manual"
WINDOW_DAYS = 365  # the spend window: the 365 local days ending today ("12 months")
LOWEST = ("D", 3)  # a member who never bought


@dataclass(frozen=True)
class SegmentSettings:
    """The thresholds (``GET|PUT /v1/segments/settings``): cumulative shares of the spenders for A, B and C in whole
    percent, and the recency limits of grades 1 and 2 in days."""

    a_percent: int = 10
    b_percent: int = 30
    c_percent: int = 60
    grade1_days: int = 30
    grade2_days: int = 180

    def check(self) -> SegmentSettings:
        if not 0 < self.a_percent <= self.b_percent <= self.c_percent <= 100:
            raise ValidationProblem("the percentages must rise: 0 < a_percent ≤ b_percent ≤ c_percent ≤ 100",
                                    loc=["body", "a_percent"])
        if not 0 <= self.grade1_days <= self.grade2_days <= WINDOW_DAYS:
            raise ValidationProblem(f"the days must rise: 0 ≤ grade1_days ≤ grade2_days ≤ {WINDOW_DAYS}",
                                    loc=["body", "grade1_days"])
        return self


@dataclass(frozen=True)
class Spend:
    """A member's net spend over the window (minor units, refunds taken off) and their last purchase's local day."""

    spend_minor: int
    last_day: str | None


@dataclass(frozen=True)
class DaySpend:
    """One member's net spend on one local day and how many purchases they made that day."""

    day: str
    member_id: str
    spend_minor: int
    purchases: int


def spend_over(rows: Iterable[DaySpend], first: str, last: str) -> dict[str, Spend]:
    """Each member's ``Spend`` over the local days ``first``–``last`` of these rows."""
    spend: dict[str, int] = {}
    last_day: dict[str, str] = {}
    for row in rows:
        if not first <= row.day <= last:
            continue
        spend[row.member_id] = spend.get(row.member_id, 0) + row.spend_minor
        if row.purchases > 0 and row.day > last_day.get(row.member_id, ""):
            last_day[row.member_id] = row.day
    return {m: Spend(spend[m], last_day.get(m)) for m in spend}


@dataclass(frozen=True)
class Segment:
    """A member's segment as kept: the cell the last recompute gave them, and staff's manual cell if any (which wins
    until dropped). ``version`` counts the item's changes: every write is conditioned on the one read."""

    member_id: str
    computed_cell: str
    computed_at: str | None
    manual_cell: str | None = None
    manual_at: str | None = None
    manual_by: str | None = None
    version: int = 0

    @property
    def cell(self) -> str:
        return self.manual_cell or self.computed_cell

    @property
    def klass(self) -> str:
        return self.cell[0]

    @property
    def grade(self) -> int:
        return int(self.cell[1])

    @property
    def source(self) -> str:
        return MANUAL if self.manual_cell else COMPUTED


def unsegmented(member_id: str, last_run: str | None) -> Segment:
    """A member no recompute has seen yet (joined since the last one): D3 until the next."""
    return Segment(member_id, "D3", last_run, version=-1)


def ceil_share(percent: int, n: int) -> int:
    """⌈percent/100 · n⌉ in integers."""
    return -(-percent * n // 100)


def classes(spend: Mapping[str, int], settings: SegmentSettings) -> dict[str, str]:
    """Each member's class from their window spend: the spenders (spend > 0) by rank, everyone else D."""
    spenders = sorted((s for s in spend.values() if s > 0), reverse=True)
    n = len(spenders)
    limits = [(ceil_share(settings.a_percent, n), "A"), (ceil_share(settings.b_percent, n), "B"),
              (ceil_share(settings.c_percent, n), "C")]
    rank_of: dict[int, int] = {}
    for position, amount in enumerate(spenders, start=1):
        rank_of.setdefault(amount, position)  # the first position of an amount: 1 + how many spent more
    found: dict[str, str] = {}
    for member, amount in spend.items():
        found[member] = "D"
        if amount > 0:
            r = rank_of[amount]
            found[member] = next((k for limit, k in limits if r <= limit), "D")
    return found


def grade_of(last_day: str | None, today: date, settings: SegmentSettings) -> int:
    if last_day is None:
        return 3
    days = (today - date.fromisoformat(last_day)).days
    if days <= settings.grade1_days:
        return 1
    return 2 if days <= settings.grade2_days else 3


def computed(members: Iterable[str], spend: Mapping[str, Spend], today: date,
             settings: SegmentSettings) -> dict[str, str]:
    """Every member's computed cell (``"A1"`` … ``"D3"``); a member with no spend record did not buy in the window."""
    everyone = list(dict.fromkeys(members))
    by_member = {m: spend[m].spend_minor if m in spend else 0 for m in everyone}
    klass = classes(by_member, settings)
    grades: dict[str | None, int] = {}  # by last purchase day: a window has at most 365 of them
    cells: dict[str, str] = {}
    for m in everyone:
        day = spend[m].last_day if m in spend else None
        grade = grades.get(day)
        if grade is None:
            grade = grades[day] = grade_of(day, today, settings)
        cells[m] = f"{klass[m]}{grade}"
    return cells


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(CELLS, 0)


def check_cell(cell: str) -> str:
    if cell not in CELLS:
        raise ValidationProblem(f"a cell is a class A–D and a grade 1–3, as A1 or D3: not {cell}",
                                loc=["path", "cell"])
    return cell

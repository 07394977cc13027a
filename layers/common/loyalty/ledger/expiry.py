"""Expiry: points that become free get a date, and the oldest go first (docs/earning-expiry.md).

An asset that expires (``Asset.expires``: points' ``available``) keeps, beside its bucket, **dated lots**: amount by
the instant it expires (the end of the local day ``months`` after the points became available, in the
programme's time zone). Points that became available before the rule took effect (``since``) have no date and never
expire: they are the bucket less its dated lots. Everything here is a pure function of the lots and a bucket's
amount, used alike by ``post`` (which writes what happened), ``Account.view`` (what a read shows) and ``verify``
(what the entries add up to):

- a credit into the bucket adds its dated parts (``dated_parts``: a release carries several lots' arrivals);
- every line is followed by ``settle``: the bucket can never hold fewer points than its dated lots, so whatever a
  debit takes past the undated points comes out of the dated lots, oldest first (spending, a refund's
  claw-back: "spending takes the oldest first"; undated points are older than any dated one);
- ``due`` lists the lots whose instant has come: a read no longer counts them, the next write records them as one
  ``expiry`` entry naming them.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from loyalty.shared.clock import parse_rfc3339, to_rfc3339

Lots = tuple[tuple[str, int], ...]  # (instant it expires, amount), oldest first


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day where it has no such day (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class ExpiryPolicy:
    """Points that become available after ``since`` expire at the end of the local day ``months`` later (``months``
    0: none do; the zone still says which local day a dated lot ends on)."""

    months: int
    since: datetime
    zone: str

    def expires_at(self, arrival: datetime) -> str | None:
        """The instant points that became available at ``arrival`` expire (None: they never do)."""
        if not self.months or arrival <= self.since:
            return None
        zone = ZoneInfo(self.zone)
        last_day = add_months(arrival.astimezone(zone).date(), self.months)
        end = datetime.combine(last_day + timedelta(days=1), time(), tzinfo=zone)
        return to_rfc3339(end.astimezone(UTC))


# The rule as ``post`` and ``Account.view`` take it: the policy, or a way to read it that is called only when a write
# or a read has points to date (most have none, and need not read the programme).
Expiry = ExpiryPolicy | Callable[[], ExpiryPolicy | None] | None


def policy_of(expiry: Expiry) -> ExpiryPolicy | None:
    return expiry() if callable(expiry) else expiry


def once(expiry: Expiry) -> Expiry:
    """The rule, read at most once however many lines of one write need it."""
    if not callable(expiry):
        return expiry
    read: list[ExpiryPolicy | None] = []

    def policy() -> ExpiryPolicy | None:
        if not read:
            read.append(expiry())
        return read[0]

    return policy


def last_day(instant: str, zone: str) -> date:
    """The local date at whose end points dated ``instant`` expire (what a member is shown: "on")."""
    return (parse_rfc3339(instant) - timedelta(microseconds=1)).astimezone(ZoneInfo(zone)).date()


def dated_parts(arrivals: Iterable[tuple[datetime, int]], expiry: Expiry) -> Lots | None:
    """The dated lots of amounts that became available at these instants (None: none of them is dated). The rule is
    read only when there is something to date."""
    arriving = [(arrival, amount) for arrival, amount in arrivals if amount > 0]
    policy = policy_of(expiry) if arriving else None
    if policy is None:
        return None
    lots: dict[str, int] = {}
    for arrival, amount in arriving:
        at = policy.expires_at(arrival)
        if at is not None:
            lots[at] = lots.get(at, 0) + amount
    return ordered(lots) or None


def ordered(lots: Mapping[str, int]) -> Lots:
    return tuple(sorted(((at, amount) for at, amount in lots.items() if amount), key=lambda lot: parse_rfc3339(lot[0])))


def settle(bucket: int, lots: Mapping[str, int]) -> dict[str, int]:
    """The dated lots left once a bucket holds ``bucket``: never more than it (nothing when it is at or below zero),
    what is missing taken from the oldest."""
    excess = sum(lots.values()) - max(bucket, 0)
    kept: dict[str, int] = {}
    for at, amount in ordered(lots):
        taken = min(amount, max(excess, 0))
        excess -= taken
        if amount - taken:
            kept[at] = amount - taken
    return kept


def due(lots: Mapping[str, int], now: datetime) -> Lots:
    """The dated lots that have expired by ``now``."""
    return tuple((at, amount) for at, amount in ordered(lots) if parse_rfc3339(at) <= now)

"""Surprises' use cases: publishing the days' commitments, revealing a day that ended, and a purchase's draw.

A purchase draws only when the programme has a surprise rule: it reads the day's commitment once per container and
day (one ``GetItem``, or a ``PutItem`` for the first purchase of a day nobody published yet), derives the day's
secret from the master (read once per container) and adds to its own transaction the draw record and, for a hit,
the budget's counter and the buyer's ``bonus`` line (docs/earning-surprise.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from loyalty.ledger.assets import POINTS, Bucket, EntryKind
from loyalty.ledger.entries import Source
from loyalty.ledger.posting import Posting
from loyalty.ledger.store import Record
from loyalty.program.domain import ProgramRules
from loyalty.shared.clock import Clock, parse_rfc3339, to_rfc3339
from loyalty.surprises.domain import SURPRISE_RULE, DayNotOver, Draw, commitment, day_secret, draw
from loyalty.surprises.store import SurpriseStore

log = logging.getLogger(__name__)

DAYS_AHEAD = 7  # commitments published for today and the next 7 local days
DAYS_BACK = 7  # and the last 7 days' (to be checked against their reveal)
PAGE = 1000  # draws per page of a day's reveal
STATE = "surprise"  # in a purchase record's state: the paid surprise (points, bucket, available_at)


@dataclass(frozen=True)
class Commitment:
    day: date
    commitment: str
    revealed: bool  # the day has ended: GET /v1/program/surprise/days/{date} reveals its secret


@dataclass(frozen=True)
class Reveal:
    day: date
    commitment: str  # as recorded when first published (what the secret must hash to)
    secret: str  # hex
    draws: list[Draw]
    next_cursor: str | None
    paid_points: int


@dataclass(frozen=True)
class Drawn:
    """A purchase's draw and what it writes: the draw record(s) and, when paid, the buyer's bonus line."""

    draw: Draw
    day: date
    records: list[Record]
    postings: list[Posting]
    state: dict[str, object]


LAST_ZONE = timedelta(hours=12)  # UTC-12: the last local date to end anywhere (Baker Island)


def reveal_at(day: date) -> datetime:
    """When ``day`` has ended in every time zone: midnight after it in UTC-12, 12:00 UTC the next day."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=UTC) + LAST_ZONE


def over_everywhere(day: date, now: datetime) -> bool:
    """Whether a day's secret may be revealed. Not when it is over in the programme's time zone only: an admin could
    then move the zone west, make that local date today again and draw under a secret already public. Once a date
    has ended everywhere, no zone's today is it any more, so nothing is ever drawn under a revealed secret."""
    return now >= reveal_at(day)


class SurpriseService:
    def __init__(self, store: SurpriseStore, master: Callable[[], bytes], clock: Clock,
                 program: Callable[[], ProgramRules]) -> None:
        self._store = store
        self._master = master
        self._clock = clock
        self._program = program
        self._secrets: dict[date, bytes | None] = {}  # per container: the days whose commitment was checked

    # --- publishing and revealing --------------------------------------------------------------------------------
    def commitments(self) -> tuple[date, list[Commitment]]:
        """Today (the programme's local date) and the commitments of the last days and the next: each of today and
        the next days recorded now if it never was (put once), past days only as recorded."""
        now = self._clock.now()
        today = self._program().local_date(now)
        days = [today + timedelta(days=n) for n in range(-DAYS_BACK, DAYS_AHEAD + 1)]
        recorded = self._store.commitments(days)
        master = self._master()
        for day in days:
            if day >= today and day not in recorded:
                recorded[day] = self._store.record_commitment(day, commitment(day_secret(master, day)),
                                                              to_rfc3339(now))
        return today, [Commitment(d, recorded[d], over_everywhere(d, now)) for d in days if d in recorded]

    def reveal(self, day: date, *, after: str | None = None) -> Reveal:
        """The secret of a day that has ended everywhere and its draws, by order id (``PAGE`` to a page);
        ``DayNotOver`` before (``over_everywhere``)."""
        now = self._clock.now()
        if not over_everywhere(day, now):
            today = self._program().local_date(now)
            raise DayNotOver(f"{day} is revealed once it is over in every time zone, from {to_rfc3339(reveal_at(day))} "
                             f"(today is {today} in the programme's time zone).")
        secret = day_secret(self._master(), day)
        recorded = self._store.commitments([day]).get(day, commitment(secret))
        draws, cursor = self._store.draws(day, limit=PAGE, after=after)
        return Reveal(day, recorded, secret.hex(), draws, cursor, self._store.paid(day))

    def paid_on(self, day: date) -> int:
        return self._store.paid(day)

    # --- a purchase's draw ---------------------------------------------------------------------------------------
    def _secret(self, day: date, now: datetime) -> bytes | None:
        """The day's secret when its recorded commitment is its hash (recorded now if it never was); None when they
        differ (the master changed after publishing: nothing is drawn that day, and it is logged as an alert)."""
        if day not in self._secrets:
            secret = day_secret(self._master(), day)
            expected = commitment(secret)
            recorded = self._store.commitments([day]).get(day)
            if recorded is None:
                recorded = self._store.record_commitment(day, expected, to_rfc3339(now))
            if recorded != expected:
                log.error("surprise commitment mismatch: %s was published as %s; the master gives %s: no draws",
                          day, recorded, expected)
            self._secrets = {d: s for d, s in self._secrets.items() if d >= day - timedelta(days=1)}
            self._secrets[day] = secret if recorded == expected else None
        return self._secrets[day]

    def draw(self, rules: ProgramRules, order_id: str, buyer_id: str, now: datetime) -> Drawn | None:
        """The purchase's draw and what it writes, paid if the day's budget still can (the commit refuses it with
        ``SurpriseBudgetSpent`` otherwise: then ``unpaid``); None without a surprise rule or a sound commitment."""
        rule = rules.surprises
        if rule is None:
            return None
        day = rules.local_date(now)
        secret = self._secret(day, now)
        if secret is None:
            return None
        drawn = draw(secret, order_id, rule)
        if not drawn.hit or drawn.points > rule.daily_budget:
            return self._written(day, drawn, rule.daily_budget, rules, buyer_id, now)
        return self._written(day, replace(drawn, paid=True), rule.daily_budget, rules, buyer_id, now)

    def unpaid(self, drawn: Drawn, rules: ProgramRules, buyer_id: str, now: datetime) -> Drawn:
        """The same draw, not paid (the day's budget could not pay it in full)."""
        return self._written(drawn.day, replace(drawn.draw, paid=False), 0, rules, buyer_id, now)  # no budget moves

    def _written(self, day: date, drawn: Draw, budget: int, rules: ProgramRules, buyer_id: str,
                 now: datetime) -> Drawn:
        records = self._store.draw_records(day, drawn, budget)
        if not drawn.paid or drawn.points == 0:
            return Drawn(drawn, day, records, [], {})
        if rules.hold_days > 0:  # held like the purchase's own points (purchases.domain.credit_purchase)
            from loyalty.shared.clock import start_of_hour

            bucket, available_at = Bucket.PENDING, to_rfc3339(start_of_hour(now + timedelta(days=rules.hold_days)))
        else:
            bucket, available_at = Bucket.AVAILABLE, None
        line = Posting(holder=buyer_id, asset=POINTS.name, amount=drawn.points, bucket=bucket, kind=EntryKind.BONUS,
                       source=Source("surprise", drawn.order_id), rule_version=rules.version,
                       available_at=available_at, rule=SURPRISE_RULE)
        state: dict[str, object] = {"points": drawn.points, "bucket": str(bucket)}
        if available_at is not None:
            state["available_at"] = available_at
        return Drawn(drawn, day, records, [line], {STATE: state})


def surprise_reversal(state: dict[str, object] | None, buyer_id: str, order_id: str, refund_id: str,
                      version: int | None, now: datetime) -> list[Posting]:
    """A full refund's reversal of the purchase's paid surprise (``state``: what the purchase record kept), out of
    the bucket its points are in now; none without one."""
    if not state:
        return []
    points = int(str(state["points"]))
    held_until = state.get("available_at")
    still_held = state.get("bucket") == str(Bucket.PENDING) and held_until is not None \
        and parse_rfc3339(str(held_until)) > now
    return [Posting(holder=buyer_id, asset=POINTS.name, amount=-points,
                    bucket=Bucket.PENDING if still_held else Bucket.AVAILABLE, kind=EntryKind.REFUND,
                    source=Source("surprise", f"{order_id}/refund/{refund_id}"), rule_version=version,
                    available_at=str(held_until) if still_held else None, rule=SURPRISE_RULE)]

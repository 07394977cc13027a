"""A partner's report: clicks, sign-ups, purchases, revenue and commission by day, campaign or sub-id.

A link's day is two items of the Partners table's ``STATS#partner#<partner_id>``: ``<local day>#<link code>``, its
clicks and unique clicks (counted by the landing page as they happen), and ``<local day>#<link code>#sales``, what
the members bound through that link did (counted by the metrics aggregator from the streams, exactly once:
``metrics.domain``; kept apart so a click's plain write never meets the aggregator's transaction on one item):
sign-ups on the day they joined; purchases that earned a commission, their revenue net of refunds, the
commission and its reversals, on the day the purchase occurred; and the commission by the instant its hold ends
(``held@<instant>``), which is how a read tells pending (its hold ends after now) from available. Rows are
grouped by ``day``, ``campaign`` or ``sub_id`` (a link without one is the group ``""``) and summed; days are
local to the programme's time zone, like the dashboard's.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import datetime
from zoneinfo import ZoneInfo

from loyalty.ledger.entries import REVIEW_LOT, is_review_lot
from loyalty.metrics.domain import (
    COMMISSION_EARNED,
    COMMISSION_REVERSED,
    HELD_PREFIX,
    NO_HOLD,
    PURCHASES,
    REVENUE,
    SIGN_UPS,
    Period,
    period_of,
    today_in,
)
from loyalty.shared.clock import Clock, parse_rfc3339
from loyalty.shared.once import RetryPolicy

GROUPS = ("day", "campaign", "sub_id")
CLICKS, UNIQUE_CLICKS = "clicks", "unique_clicks"


@dataclass(frozen=True)
class ReportRow:
    key: str
    clicks: int = 0
    unique_clicks: int = 0
    sign_ups: int = 0
    purchases: int = 0
    revenue_minor: int = 0
    commission_pending_minor: int = 0
    commission_available_minor: int = 0
    commission_reversed_minor: int = 0

    def plus(self, other: ReportRow) -> ReportRow:
        return ReportRow(self.key, *(a + b for a, b in zip(astuple(self)[1:], astuple(other)[1:], strict=True)))


@dataclass(frozen=True)
class PartnerReport:
    partner_id: str
    period: Period
    group_by: str
    time_zone: str
    rows: list[ReportRow]

    @property
    def total(self) -> ReportRow:
        found = ReportRow("total")
        for row in self.rows:
            found = found.plus(row)
        return found


Outcome = tuple[str, str | None]  # a review's status (open, approved, rejected) and when its hold would have ended


def _whole(item: Mapping[str, object], name: str) -> int:
    return int(str(item.get(name, 0)))


def _reviewed(name: str) -> str | None:
    """The review a held counter is named by (``held@review/<review_id>``), or None."""
    lot = name.removeprefix(HELD_PREFIX)
    return lot.removeprefix(REVIEW_LOT) if name.startswith(HELD_PREFIX) and is_review_lot(lot) else None


def row_of(item: Mapping[str, object], key: str, now: datetime,
           outcomes: Mapping[str, Outcome] | None = None) -> ReportRow:
    """One stored row (a link's day) as a report row under ``key``: its held commission split at ``now``. A
    commission held for review (``held@review/<id>``: what is left of it after refunds) is pending while the review
    is open, pending or available by its usual hold once approved, and reversed once rejected (``outcomes``)."""
    pending = rejected = 0
    for name in item:
        if not name.startswith(HELD_PREFIX) or name == NO_HOLD:
            continue
        review_id = _reviewed(name)
        if review_id is None:
            pending += _whole(item, name) if parse_rfc3339(name.removeprefix(HELD_PREFIX)) > now else 0
            continue
        status, until = (outcomes or {}).get(review_id, ("open", None))
        if status == "rejected":
            rejected += _whole(item, name)
        elif status != "approved" or (until is not None and parse_rfc3339(until) > now):
            pending += _whole(item, name)
    net = _whole(item, COMMISSION_EARNED) - _whole(item, COMMISSION_REVERSED) - rejected
    return ReportRow(key, clicks=_whole(item, CLICKS), unique_clicks=_whole(item, UNIQUE_CLICKS),
                     sign_ups=_whole(item, SIGN_UPS), purchases=_whole(item, PURCHASES),
                     revenue_minor=_whole(item, REVENUE), commission_pending_minor=pending,
                     commission_available_minor=net - pending,
                     commission_reversed_minor=_whole(item, COMMISSION_REVERSED) + rejected)


def grouped(items: Iterable[Mapping[str, object]], group_by: str, now: datetime,
            outcomes: Mapping[str, Outcome] | None = None) -> list[ReportRow]:
    """The stored rows summed by ``group_by``, sorted by key."""
    rows: dict[str, ReportRow] = {}
    for item in items:
        key = str(item["sk"]).split("#", 1)[0] if group_by == "day" else str(item.get(group_by) or "")
        row = row_of(item, key, now, outcomes)
        rows[key] = rows[key].plus(row) if key in rows else row
    return [rows[k] for k in sorted(rows)]


def to_csv(report: PartnerReport) -> str:
    """The report as CSV (UTF-8, a header naming the JSON fields, ``key`` titled by the grouping)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    names = [f.name for f in fields(ReportRow)]
    writer.writerow([report.group_by, *names[1:]])
    for row in report.rows:
        writer.writerow([_cell(value) for value in astuple(row)])
    return out.getvalue()


def _cell(value: object) -> object:
    """A label a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``, a tab or a return first) is
    written as text (a leading ``'``); numbers stay numbers."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# The stored rows of a partner between two local days (inclusive): the Partners table's adapter answers it.
RowsReader = Callable[[str, str, str], Iterable[Mapping[str, object]]]
OutcomesReader = Callable[[Sequence[str]], Mapping[str, "Outcome"]]


class ReportService:
    def __init__(self, rows: RowsReader, clock: Clock, zone: ZoneInfo, retry: RetryPolicy | None = None,
                 outcomes: OutcomesReader | None = None) -> None:
        self._rows = rows
        self._outcomes = outcomes  # reviews' decisions (docs/screening.md); None: every held commission is open
        self._clock = clock
        self._zone = zone
        self._retry = retry or RetryPolicy()

    def report(self, partner_id: str, first: str | None, last: str | None, group_by: str) -> PartnerReport:
        """The partner's rows of the local days ``first``–``last`` (defaults as the dashboard's), grouped."""
        now = self._clock.now()
        period = period_of(first, last, today_in(self._zone, now))
        items = self._retry.run(lambda: list(self._rows(partner_id, period.first.isoformat(),
                                                        period.last.isoformat())))
        reviewed = sorted({r for item in items for name in item if (r := _reviewed(str(name))) is not None})
        read = self._outcomes
        outcomes = self._retry.run(lambda: read(reviewed)) if reviewed and read is not None else {}
        rows = grouped(items, group_by, now, outcomes)
        if group_by == "day":  # every day of the period, days without activity included (a chart's x axis)
            found = {r.key: r for r in rows}
            rows = [found.get(day, ReportRow(day)) for day in period.days]
        return PartnerReport(partner_id, period, group_by, self._zone.key, rows)

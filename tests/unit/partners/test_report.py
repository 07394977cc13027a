"""A partner's report from its stored rows: what each event adds to a row, held commission told apart from
available by the instant its hold ends, grouping by day, campaign and sub-id, CSV (pure)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from loyalty.members.domain import PartnerBinding
from loyalty.metrics.domain import joined, posted, purchased, refunded
from loyalty.partners.report import PartnerReport, ReportRow, ReportService, grouped, to_csv
from loyalty.shared.clock import FixedClock

SHANGHAI = ZoneInfo("Asia/Shanghai")
BOUND = PartnerBinding("kol", "2026-11-20T00:00:00Z", 500, "2026-12-20T00:00:00Z", "LINKCODE1", "spring", "post-42")
HOLD_ENDS = "2026-11-30T09:00:00Z"


def test_a_bound_members_events_add_to_the_partners_row_of_the_day() -> None:
    assert joined("dan", "2026-11-20T17:00:00Z", SHANGHAI, BOUND).partner.counts == {"sign_ups": 1}  # type: ignore[union-attr]
    assert joined("dan", "2026-11-20T17:00:00Z", SHANGHAI).partner is None
    bought = purchased("O-1", "dan", 12900, "2026-11-23T09:30:00Z", False, SHANGHAI, BOUND, 645, HOLD_ENDS)
    assert bought.partner is not None and (bought.partner.day, bought.partner.code) == ("2026-11-23", "LINKCODE1")
    assert bought.partner.counts == {"purchases": 1, "revenue_minor": 12900, "commission_minor": 645,
                                     f"held@{HOLD_ENDS}": 645}
    assert purchased("O-2", "dan", 12900, "2026-11-23T09:30:00Z", False, SHANGHAI, BOUND, 0, None).partner is None
    back = refunded("O-1", "R-1", 4300, "2026-11-23T09:30:00Z", False, SHANGHAI, BOUND, True, 215, HOLD_ENDS)
    assert back.partner is not None and back.partner.counts == {
        "revenue_minor": -4300, "commission_reversed_minor": 215, f"held@{HOLD_ENDS}": -215}
    assert refunded("O-2", "R-1", 100, "2026-11-23T09:30:00Z", False, SHANGHAI, BOUND, False, 0).partner is None
    entry = posted("partner#kol", 3, "commission", "payout", -500, "2026-11-23T09:30:00Z", SHANGHAI)
    assert entry is not None and entry.counts == {"commission_minor": -500}  # what the shop owes, net


ROWS = [
    {"sk": "2026-11-23#LINKCODE1", "campaign": "spring", "sub_id": "post-42", "clicks": 40, "unique_clicks": 31,
     "sign_ups": 3, "purchases": 2, "revenue_minor": 21500, "commission_minor": 1075,
     "commission_reversed_minor": 215, f"held@{HOLD_ENDS}": 430, "held@2026-11-30T10:00:00Z": 430},
    {"sk": "2026-11-23#LINKCODE2", "campaign": "spring", "clicks": 5, "unique_clicks": 5},
    {"sk": "2026-11-24#LINKCODE3", "clicks": 2, "unique_clicks": 1, "sign_ups": 1, "purchases": 1,
     "revenue_minor": 5000, "commission_minor": 250, "held@-": 250},
]


def test_commission_is_pending_until_its_hold_ends_then_available() -> None:
    before = grouped(ROWS[:1], "day", datetime(2026, 11, 30, 8, 59, tzinfo=UTC))[0]
    assert (before.commission_pending_minor, before.commission_available_minor) == (860, 0)
    between = grouped(ROWS[:1], "day", datetime(2026, 11, 30, 9, 0, tzinfo=UTC))[0]
    assert (between.commission_pending_minor, between.commission_available_minor) == (430, 430)
    after = grouped(ROWS[:1], "day", datetime(2026, 12, 1, tzinfo=UTC))[0]
    assert (after.commission_pending_minor, after.commission_available_minor, after.commission_reversed_minor) == (
        0, 860, 215)


def test_rows_group_by_day_campaign_or_sub_id_and_every_day_of_the_period_is_listed() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    assert [(r.key, r.clicks, r.sign_ups) for r in grouped(ROWS, "campaign", now)] == [("", 2, 1), ("spring", 45, 3)]
    assert [r.key for r in grouped(ROWS, "sub_id", now)] == ["", "post-42"]
    service = ReportService(lambda p, a, b: [r for r in ROWS if a <= r["sk"][:10] <= b],  # type: ignore[index]
                            FixedClock(now), SHANGHAI)
    report = service.report("kol", "2026-11-22", "2026-11-24", "day")
    assert [(r.key, r.clicks, r.revenue_minor, r.commission_available_minor) for r in report.rows] == [
        ("2026-11-22", 0, 0, 0), ("2026-11-23", 45, 21500, 860), ("2026-11-24", 2, 5000, 250)]
    assert report.total == ReportRow("total", 47, 37, 4, 3, 26500, 0, 1110, 215)


def test_the_csv_has_a_header_and_a_line_per_row() -> None:
    report = PartnerReport("kol", None, "campaign", "Asia/Shanghai",  # type: ignore[arg-type]
                           grouped(ROWS, "campaign", datetime(2026, 12, 1, tzinfo=UTC)))
    lines = list(csv.reader(io.StringIO(to_csv(report))))
    assert lines[0] == ["campaign", "clicks", "unique_clicks", "sign_ups", "purchases", "revenue_minor",
                        "commission_pending_minor", "commission_available_minor", "commission_reversed_minor"]
    assert lines[2] == ["spring", "45", "36", "3", "2", "21500", "0", "860", "215"]


def test_a_label_a_spreadsheet_would_run_as_a_formula_is_written_as_text() -> None:
    rows: list[dict[str, object]] = [{"sk": "2026-11-23#L", "campaign": "-1+2", "clicks": 1},
                                     {"sk": "2026-11-23#M", "campaign": "=HYPERLINK()"}]
    report = PartnerReport("kol", None, "campaign", "Asia/Shanghai",  # type: ignore[arg-type]
                           grouped(rows, "campaign", datetime(2026, 12, 1, tzinfo=UTC)))
    lines = list(csv.reader(io.StringIO(to_csv(report))))
    assert [line[0] for line in lines[1:]] == ["'-1+2", "'=HYPERLINK()"] and lines[1][1] == "1"

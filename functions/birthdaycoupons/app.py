"""Issues the birthday coupons of the day (templates with ``issue_on: birthday``), on a daily schedule: once per
member, template and year whatever reruns (docs/wallet.md, "Coupons")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loyalty.shared.observability import event_entry, logger
from loyalty.wiring import coupons


@event_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    issued = coupons().birthdays()
    logger.info("birthday coupons issued", extra={"issued": len(issued)})
    return {"issued": issued}


def next_work(event: dict[str, Any], after: datetime, until: datetime) -> datetime | None:
    """Every day while a template has ``issue_on: birthday``, else never (a fresh install runs nothing). Not called
    on AWS, where the schedule simply runs (``localdev.jobs``)."""
    return after if coupons().issues_on_birthdays() else None

"""Approves the reviews left open longer than the deadline (``REVIEW_DAYS``, 14 by default), on a schedule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loyalty.shared.observability import event_entry, logger
from loyalty.wiring import reviews


@event_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    approved = reviews().approve_overdue()
    logger.info("reviews approved at their deadline", extra={"approved": len(approved)})
    return {"approved": [r.review_id for r in approved]}


def next_work(event: dict[str, Any], after: datetime, until: datetime) -> datetime | None:
    """When the oldest open review reaches its deadline (the slots before it would approve nothing), or never when
    none is open. Not called on AWS, where the schedule simply runs (``localdev.jobs``)."""
    due = reviews().next_deadline()
    return None if due is None else max(after, due)

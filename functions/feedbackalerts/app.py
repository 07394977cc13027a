"""Alerts the shop's staff address about each complaint left without a reply for 24 hours, once, on a schedule
(docs/feedback.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loyalty.shared.observability import event_entry, logger
from loyalty.wiring import feedback


@event_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    alerted = feedback().alert_overdue()
    logger.info("unanswered complaints alerted", extra={"alerted": len(alerted)})
    return {"alerted": [f.feedback_id for f in alerted]}


def next_work(event: dict[str, Any], after: datetime, until: datetime) -> datetime | None:
    """When the oldest unanswered complaint becomes overdue (the slots before it would alert nothing), or never when
    none waits. Not called on AWS, where the schedule simply runs (``localdev.jobs``)."""
    due = feedback().next_alert()
    return None if due is None else max(after, due)

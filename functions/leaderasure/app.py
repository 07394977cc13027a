"""Erases the contact details of leads that did not convert within 180 days, hourly (docs/leads.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loyalty.shared.observability import event_entry, logger
from loyalty.wiring import leads


@event_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    erased = leads().erase_expired()
    logger.info("leads erased", extra={"erased": len(erased)})
    return {"erased": [lead.lead_id for lead in erased]}


def next_work(event: dict[str, Any], after: datetime, until: datetime) -> datetime | None:
    """When the oldest lead still holding contact details is due (the slots before it would erase nothing), or never
    when none is. Not called on AWS, where the schedule simply runs (``localdev.jobs``)."""
    due = leads().next_erasure()
    return None if due is None else max(after, due)

"""Recomputes every member's segment, daily, on a schedule (docs/segments.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loyalty.shared.observability import event_entry, logger
from loyalty.wiring import segments


@event_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run = segments().recompute()
    logger.info("segments recomputed", extra={"members": run.members, "changed": run.changed})
    return {"at": run.at, "members": run.members, "changed": run.changed}


def next_work(event: dict[str, Any], after: datetime, until: datetime) -> datetime | None:
    """When a recompute would next change a stored cell (the days before it would write nothing), or never. Not
    called on AWS, where the schedule simply runs daily (``localdev.jobs``)."""
    return segments().next_work(after, until)

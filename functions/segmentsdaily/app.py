"""Recomputes every member's segment, daily, on a schedule (docs/segments.md)."""

from __future__ import annotations

from typing import Any

from loyalty.shared.observability import event_entry, logger
from loyalty.wiring import segments


@event_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    run = segments().recompute()
    logger.info("segments recomputed", extra={"members": run.members, "changed": run.changed})
    return {"at": run.at, "members": run.members, "changed": run.changed}

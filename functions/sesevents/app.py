"""SES bounce and complaint events (through EventBridge): suppress the addresses they name."""

from __future__ import annotations

from typing import Any

from loyalty.shared.observability import event_entry, logger
from loyalty.wiring import outreach


@event_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    suppressed = outreach().admin.record_ses_event(event.get("detail") or {})
    logger.info("SES event", extra={"detail_type": event.get("detail-type"), "suppressed": len(suppressed)})
    return {"suppressed": suppressed}

"""Issues the birthday coupons of the day (templates with ``issue_on: birthday``), on a daily schedule: once per
member, template and year whatever reruns (docs/wallet.md, "Coupons")."""

from __future__ import annotations

from typing import Any

from loyalty.shared.observability import event_entry, logger
from loyalty.wiring import coupons


@event_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    issued = coupons().birthdays()
    logger.info("birthday coupons issued", extra={"issued": len(issued)})
    return {"issued": issued}

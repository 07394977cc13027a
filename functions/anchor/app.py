"""Publishes a digest of every chain head to the Object Lock bucket, on a schedule (docs/anchoring.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from loyalty.shared.observability import event_entry, logger
from loyalty.wiring import anchoring


@event_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    publication = anchoring().publish()
    digest = publication.digest
    logger.info("anchor", extra={"published": publication.published, "count": digest.count, "root": digest.root,
                                 "published_at": digest.published_at})
    return {"published": publication.published, "published_at": digest.published_at, "count": digest.count,
            "root": digest.root}


def next_work(event: dict[str, Any], after: datetime, until: datetime) -> datetime | None:
    """At the next slot if a head moved since the latest digest, else never (nothing to publish).

    Not called on AWS, where the schedule simply runs (and publishes nothing when nothing moved): the local
    server's clock asks it to skip the slots where nothing would be published (``localdev.jobs``).
    """
    return after if anchoring().has_news() else None

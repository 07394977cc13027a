"""Posts the referral credits (and their reversals) that purchases and refunds queue, from the CreditQueue
table's stream, a batch at a time per referrer (``loyalty.ledger.deferred``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from loyalty.shared.observability import event_entry, logger
from loyalty.wiring import poster

if TYPE_CHECKING:
    from loyalty.ledger.usecases import DeferredPoster


def post(records: list[dict[str, Any]], to: DeferredPoster) -> list[str]:
    """Apply a batch of stream records; the sequence numbers of those that could not be applied."""
    from loyalty.ledger.dynamodb import delivered_from_record

    delivered, failed = [], []
    for record in records:
        try:
            delivered.append(delivered_from_record(record))
        except (KeyError, ValueError, TypeError, IndexError):
            logger.error("not a deferred posting", extra={"event_id": record.get("eventID")})
            failed.append(str(record.get("dynamodb", {}).get("SequenceNumber", "")))
    failed += [str(item.position) for item in to.apply(delivered)]
    if failed:
        logger.warning("postings left for the stream to deliver again", extra={"count": len(failed)})
    return sorted(failed, key=lambda seq: int(seq) if seq.isdigit() else 0)


@event_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """Report what could not be applied by its sequence number, so that Lambda delivers it again from the first
    such record (what was applied before it is skipped by the marks), and after its retries sends it to the
    dead-letter queue."""
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in post(event.get("Records", []), poster())]}

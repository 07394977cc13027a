"""Posts the referral credits (and their reversals) that purchases and refunds queue, from the CreditQueue
table's stream, a batch at a time per referrer (``loyalty.ledger.deferred``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from loyalty.shared.observability import event_entry, logger, metrics
from loyalty.wiring import poster

if TYPE_CHECKING:
    from loyalty.ledger.usecases import DeferredPoster


def post(records: list[dict[str, Any]], to: DeferredPoster) -> list[str]:
    """Apply a batch of stream records; the sequence numbers of those to deliver again (a holder still
    contended). A record that is no posting, or a posting that breaks the ledger's rules, is parked: logged,
    counted (``PostingsParked``, which alarms) and left in its queue, and its lane goes on."""
    from loyalty.ledger.dynamodb import delivered_from_record

    delivered, unreadable = [], []
    for record in records:
        try:
            delivered.append(delivered_from_record(record))
        except (KeyError, ValueError, TypeError, IndexError):
            unreadable.append(record.get("dynamodb", {}).get("Keys"))
    applied = to.apply(delivered)
    parked = unreadable + [{"pk": d.deferred.key, "sk": d.deferred.sort_key} for d in applied.parked]
    if parked:
        logger.error("postings parked: not posted, left in their queue", extra={"keys": parked})
        metrics.add_metric(name="PostingsParked", unit=MetricUnit.Count, value=len(parked))
    if applied.again:
        logger.warning("postings left for the stream to deliver again", extra={"count": len(applied.again)})
    return sorted((str(d.position) for d in applied.again), key=int)


@event_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """Report the postings of holders still contended by their sequence numbers, so that Lambda delivers them
    again from the first (what was applied before it is skipped by the marks), without limit: only a record
    older than the mapping's MaximumRecordAgeInSeconds goes to the dead-letter queue."""
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in post(event.get("Records", []), poster())]}

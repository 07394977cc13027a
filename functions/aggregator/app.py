"""Keeps the dashboard's figures: counts sign-ups (Members stream), purchases and refunds (Operations stream) and
ledger entries (Ledger stream) into daily totals, each exactly once (``loyalty.metrics``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from loyalty.shared.observability import event_entry, logger, metrics
from loyalty.wiring import metrics as figures

if TYPE_CHECKING:
    from loyalty.metrics.usecases import Aggregator
    from loyalty.shared.settings import Tables


def count(records: list[dict[str, Any]], aggregator: Aggregator, tables: Tables) -> int:
    """Count a batch of stream records; how many events were counted now. A record that should carry an event
    and cannot be read as one is left out, logged and counted (``MetricsRecordsSkipped``, which alarms)."""
    from loyalty.metrics.dynamodb import event_from_record

    events, unreadable = [], []
    for record in records:
        try:
            event = event_from_record(record, tables)
        except (KeyError, ValueError, TypeError, IndexError):
            unreadable.append(record.get("dynamodb", {}).get("Keys"))
            continue
        if event is not None:
            events.append(event)
    counted = aggregator.count(events)
    skipped = unreadable + [repr(e) for e in counted.skipped]
    if skipped:
        logger.error("stream records left out of the figures", extra={"records": skipped})
        metrics.add_metric(name="MetricsRecordsSkipped", unit=MetricUnit.Count, value=len(skipped))
    return counted.counted


@event_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, list[dict[str, str]]]:
    """A batch is counted whole or fails whole (Lambda delivers it again; what was counted is skipped by its
    mark), so no record is reported apart."""
    kept = figures()
    count(event.get("Records", []), kept.aggregator, kept.tables)
    return {"batchItemFailures": []}

"""Plans reminders from two streams: the follow-ups of each recorded purchase (the Operations table's) and the
notices of expiring points (the Ledger table's: each points entry that dates points, docs/earning-expiry.md)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from loyalty.shared.observability import event_entry
from loyalty.wiring import outreach, settings

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def plan(record: DynamoDBRecord) -> None:
    # Imported on first use: the store's module brings boto3's codec, which a cold start does not need.
    from loyalty.outreach.dynamodb import entry_from_stream, purchase_from_stream

    entry = entry_from_stream(record.raw_event, settings().tables.ledger)
    if entry is not None:
        outreach().planner.plan_expiry([entry])
        return
    purchase = purchase_from_stream(record.raw_event)
    if purchase is not None:
        outreach().planner.plan_purchase(purchase)


@event_entry
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=plan, processor=processor, context=context)

"""Plans the follow-ups of each recorded purchase, from the Operations table's stream."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from loyalty.observability import event_entry
from loyalty.usecases.outreach import operation_image
from loyalty.wiring import outreach

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def plan(record: DynamoDBRecord) -> None:
    image = operation_image(record.raw_event)
    if image is not None:
        outreach().plan_purchase(image)


@event_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=plan, processor=processor, context=context)

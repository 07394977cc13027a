"""Sends due reminders from the send queue through SES, at most once each, reporting partial failures."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from loyalty.outreach.policy import Reminder
from loyalty.shared.observability import event_entry, metrics
from loyalty.wiring import outreach

processor = BatchProcessor(event_type=EventType.SQS)


def deliver(record: SQSRecord) -> str:
    decision = outreach().sender.deliver(Reminder.from_message(json.loads(record.body)))
    metrics.add_metric(name=f"Reminders{decision.verdict.value.title()}", unit=MetricUnit.Count, value=1)
    return decision.verdict.value


@event_entry
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=deliver, processor=processor, context=context)

"""The scheduled work of outreach, triggered by EventBridge Scheduler, and the fan-out queue.

- ``{"job": "due"}`` (every few minutes): reminders whose time has come go to the send queue.
- ``{"job": "calendar"}`` (hourly): today's birthdays, and holidays that have begun.
- SQS fan-out messages: one page of opted-in members for a holiday or a campaign.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from loyalty.shared.observability import event_entry, logger
from loyalty.wiring import outreach

processor = BatchProcessor(event_type=EventType.SQS)


def fan_out(record: SQSRecord) -> None:
    outreach().planner.fan_out(json.loads(record.body))


@event_entry
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "Records" in event:
        return process_partial_response(event=event, record_handler=fan_out, processor=processor, context=context)
    job = event.get("job")
    if job == "due":
        result: dict[str, Any] = {"queued": outreach().planner.dispatch_due()}
    elif job == "calendar":
        result = outreach().planner.plan_calendar()
    else:
        raise ValueError(f"unknown job {job!r}")
    logger.info("outreach job done", extra={"job": job, **result})
    return result

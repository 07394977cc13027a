"""The scheduled work of outreach, triggered by EventBridge Scheduler, and the fan-out queue.

- ``{"job": "due"}`` (every few minutes): reminders whose time has come go to the send queue.
- ``{"job": "calendar"}`` (hourly): today's birthdays, and holidays that have begun.
- SQS fan-out messages: one page of opted-in members for a holiday or a campaign.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from loyalty.shared.observability import event_entry, logger
from loyalty.wiring import outreach

processor = BatchProcessor(event_type=EventType.SQS)


def fan_out(record: SQSRecord) -> None:
    outreach().planner.fan_out(json.loads(record.body))


@event_entry
def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse | dict[str, Any]:
    if "Records" in event:
        return process_partial_response(event=event, record_handler=fan_out, processor=processor, context=context)
    job = event.get("job")
    if job == "due":
        result: dict[str, Any] = outreach().planner.dispatch_due()
    elif job == "calendar":
        result = outreach().planner.plan_calendar()
    else:
        raise ValueError(f"unknown job {job!r}")
    logger.info("outreach job done", extra={"job": job, **result})
    return result


def next_work(event: dict[str, Any], after: datetime, until: datetime) -> datetime | None:
    """When the job of a scheduled event next has something to do, in [after, until], or None.

    Not called on AWS, where the schedules simply run: the local server's clock asks it to skip the slots
    where nothing is due (``localdev.jobs``), so moving the clock a year ahead takes seconds.
    """
    job = event.get("job")
    if job not in ("due", "calendar"):
        return after  # not a job this knows: let it run at every slot
    return outreach().planner.next_work(after, until, job)

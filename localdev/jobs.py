"""What AWS runs on its own, run on demand: schedules, event source mappings, and the SES outbox.

``tick()`` does what EventBridge Scheduler and Lambda's pollers would have done by the local clock:
feed new stream records to their functions, fire each schedule that is due, and drain the queues
into their consumers (reporting partial batch failures back, so failed messages are retried and
end in the dead-letter queue like on AWS), until nothing moves. ``outbox()`` lists what SES was
asked to send.
"""

from __future__ import annotations

import json
import os
import re
import traceback
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from typing import Any

from localdev import template
from loyalty.shared.clock import to_rfc3339

Invoke = Callable[[Callable[[dict[str, Any], Any], Any], dict[str, Any], str], Any]
STREAMS_ENDPOINT = "https://streams.dynamodb.us-east-1.amazonaws.com"
RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")


def interval(expression: str) -> timedelta:
    found = RATE.match(expression)
    if not found:
        raise ValueError(f"the local scheduler understands rate(...) expressions only, not {expression!r}")
    amount, unit = int(found.group(1)), found.group(2).rstrip("s")
    return timedelta(**{f"{unit}s": amount})


def next_fire(now: datetime, every: timedelta) -> datetime:
    """The next instant after ``now`` on the schedule's grid (rate(5 minutes) fires at :00, :05, …)."""
    seconds = int(every.total_seconds())
    epoch = int(now.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds + seconds, UTC)


def matches(pattern: Any, value: Any) -> bool:
    """EventBridge-style filter patterns, the subset the template uses (values, prefixes, nesting)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(matches(p, value.get(k)) for k, p in pattern.items())
    if isinstance(pattern, list):
        return any(
            (isinstance(p, dict) and "prefix" in p and isinstance(value, str) and value.startswith(p["prefix"]))
            or (not isinstance(p, dict) and p == value) for p in pattern)
    return bool(pattern == value)


class Jobs:
    def __init__(self, clock: Any, invoke: Invoke, names: dict[str, str]) -> None:
        import boto3

        self._clock = clock
        self._invoke = invoke
        self._names = names
        self._sqs = boto3.client("sqs")
        self._dynamodb = boto3.client("dynamodb")
        # botocore now derives an account-scoped streams host that moto does not route; the classic
        # regional endpoint (or the emulator's own, when set) is what moto answers on.
        self._streams = boto3.client("dynamodbstreams", endpoint_url=os.environ.get(
            "AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL") or STREAMS_ENDPOINT)
        self._iterators: dict[tuple[str, str], str | None] = {}
        self._consumers = []
        specs = {spec.logical_id: spec for spec in template.functions()}
        for spec in specs.values():
            for source in spec.sources:
                self._consumers.append((spec.logical_id, spec.load(), source))
        # The schedules are the ones EventBridge Scheduler holds (the emulator created them from the template).
        scheduler = boto3.client("scheduler")
        self._schedules = []
        for summary in scheduler.list_schedules().get("Schedules", []):
            schedule = scheduler.get_schedule(Name=summary["Name"])
            function = schedule["Target"]["Arn"].rsplit(":", 1)[1]
            self._schedules.append({"function": function, "handler": specs[function].load(),
                                    "event": json.loads(schedule["Target"].get("Input") or "{}"),
                                    "every": interval(schedule["ScheduleExpression"]), "next": None})

    def tick(self) -> list[dict[str, Any]]:
        ran: list[dict[str, Any]] = []
        now = self._clock.now()
        for schedule in self._schedules:
            if schedule["next"] is None or now >= schedule["next"]:
                self._pump(ran)  # what the streams carry is processed before the schedule looks
                ran.append({"function": schedule["function"], "trigger": "schedule", "event": schedule["event"],
                            "result": self._call(schedule["handler"], dict(schedule["event"]), schedule["function"])})
                schedule["next"] = next_fire(now, schedule["every"])
        for _ in range(50):
            if not self._pump(ran):
                break
        return ran

    def _pump(self, ran: list[dict[str, Any]]) -> int:
        moved = 0
        for function, handler, source in self._consumers:
            batch = self._stream_batch(function, source) if source.kind == "stream" else self._queue_batch(source)
            if not batch:
                continue
            moved += len(batch)
            result = self._call(handler, {"Records": batch}, function) or {}
            if result.get("error"):  # the invocation itself failed: Lambda retries the whole batch
                failed = {r.get("messageId") or r.get("dynamodb", {}).get("SequenceNumber") for r in batch}
            else:
                failed = {f["itemIdentifier"] for f in (result.get("batchItemFailures") or [])}
            if source.kind == "sqs":
                self._settle(source, batch, failed)
            ran.append({"function": function, "trigger": source.resource, "records": len(batch),
                        "failed": len(failed)})
        return moved

    def _call(self, handler: Callable[[dict[str, Any], Any], Any], event: dict[str, Any], function: str) -> Any:
        try:
            return self._invoke(handler, event, function)
        except Exception:
            traceback.print_exc()
            return {"error": True}

    def _queue_batch(self, source: template.EventSource) -> list[dict[str, Any]]:
        url = self._names[source.resource]
        answer = self._sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(10, source.batch_size),
                                           AttributeNames=["All"], MessageAttributeNames=["All"],
                                           WaitTimeSeconds=0)
        return [{
            "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
            "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
            "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs",
            "eventSourceARN": self._names[f"{source.resource}.Arn"], "awsRegion": "us-east-1",
        } for m in answer.get("Messages", [])]

    def _settle(self, source: template.EventSource, batch: list[dict[str, Any]], failed: set[str]) -> None:
        url = self._names[source.resource]
        done = [{"Id": str(n), "ReceiptHandle": r["receiptHandle"]} for n, r in enumerate(batch)
                if r["messageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(QueueUrl=url, Entries=done)
        for record in batch:  # retried at the next poll, and dead-lettered after maxReceiveCount
            if record["messageId"] in failed:
                self._sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=record["receiptHandle"],
                                                    VisibilityTimeout=0)

    def _stream_batch(self, function: str, source: template.EventSource) -> list[dict[str, Any]]:
        arn = self._dynamodb.describe_table(TableName=self._names[source.resource])["Table"]["LatestStreamArn"]
        records: list[dict[str, Any]] = []
        for shard in self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            key = (function, shard["ShardId"])
            if key not in self._iterators:
                self._iterators[key] = self._streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            iterator = self._iterators[key]
            if iterator is None:
                continue
            answer = self._streams.get_records(ShardIterator=iterator, Limit=source.batch_size)
            self._iterators[key] = answer.get("NextShardIterator")
            for record in answer.get("Records", []):
                record = {**record, "eventSourceARN": arn}
                if not source.filters or any(matches(f, record) for f in source.filters):
                    records.append(json.loads(json.dumps(record, default=_plain)))
        return records

    def outbox(self) -> list[dict[str, Any]]:
        """Every email SES was asked to send, oldest first, as the contract's ``/local/outbox`` shows it."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.ses.models import ses_backends

        items = []
        for raw in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages:
            data = getattr(raw, "raw_data", None)
            if data is None:
                continue
            message = BytesParser(policy=policy.default).parsebytes(data.encode() if isinstance(data, str) else data)
            text = message.get_body(preferencelist=("plain",))
            html = message.get_body(preferencelist=("html",))
            sent = parsedate_to_datetime(message["Date"]) if message["Date"] else datetime.now(UTC)
            items.append({
                "to": str(message["To"]), "subject": str(message["Subject"]),
                "text": text.get_content() if text else "", "html": html.get_content() if html else "",
                "sent_at": to_rfc3339(sent.astimezone(UTC)),
                "headers": {k: str(v) for k, v in message.items()},
            })
        return items


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


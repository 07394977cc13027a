"""What AWS runs on its own, run on demand: schedules, event source mappings, and the SES outbox.

``tick()`` does what EventBridge Scheduler and Lambda's pollers would have done by the local clock:
feed new stream records to their functions, fire each schedule that is due, and drain the queues
into their consumers (reporting partial batch failures back, so failed messages are retried and
end in the dead-letter queue like on AWS), until nothing moves. ``deliver()`` does the pollers' part
only (the server calls it after each request that may have written). ``advance(seconds)`` moves the
clock through every schedule slot on the way, in order, doing at each what a tick does there; slots
where nothing is due are skipped, as the function of the schedule says (a module-level
``next_work(event, after, until)`` next to its handler; a schedule without one runs at every slot).
``outbox()`` lists what SES was asked to send.
"""

from __future__ import annotations

import json
import math
import os
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from importlib import import_module
from typing import Any

from localdev import emulator, template
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


def first_fire(at: datetime, every: timedelta) -> datetime:
    """The first instant at or after ``at`` on the schedule's grid."""
    seconds = int(every.total_seconds())
    epoch = math.ceil(at.timestamp())
    return datetime.fromtimestamp(-(-epoch // seconds) * seconds, UTC)


def matches(pattern: Any, value: Any) -> bool:
    """EventBridge-style filter patterns, the subset the template uses (values, prefixes, nesting)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(matches(p, value.get(k)) for k, p in pattern.items())
    if isinstance(pattern, list):
        return any(
            (isinstance(p, dict) and "prefix" in p and isinstance(value, str) and value.startswith(p["prefix"]))
            or (not isinstance(p, dict) and p == value) for p in pattern)
    return bool(pattern == value)


_LOADER: Any = None


def _runner_session() -> Any:
    """A botocore session for a runner, sharing the process's one loader of service models (read-only JSON)."""
    global _LOADER
    import botocore.loaders
    import botocore.session

    if _LOADER is None:
        _LOADER = botocore.loaders.create_loader()
    session = botocore.session.get_session()
    session.register_component("data_loader", _LOADER)
    return session


@dataclass
class _Stream:
    """Where a consumer is in a table's stream: an iterator per shard (None once a shard has closed)."""

    arn: str
    iterators: dict[str, str | None] = field(default_factory=dict)
    stale: bool = False  # a shard closed: look for its children before reading on
    read_to: int = 0  # the last sequence number read
    after: dict[str, str] = field(default_factory=dict)  # per shard, the last sequence number read
    retry: list[dict[str, Any]] = field(default_factory=list)  # records to deliver again, from the first failed one
    attempts: int = 0  # how often the first of them has failed


class Jobs:
    def __init__(self, clock: Any, invoke: Invoke, names: dict[str, str]) -> None:
        import boto3

        self._clock = clock
        self._invoke = invoke
        self._names = names
        # The runner's own calls (polling, as Lambda's pollers do) come from a session of its own: hooks on the
        # default session, which the handlers' clients are built from, count the functions' calls only. Its
        # service models come from one loader per process (a fresh session would parse them again: ~2 s a runner).
        session = boto3.session.Session(botocore_session=_runner_session())
        self._sqs = session.client("sqs")
        self._dynamodb = session.client("dynamodb")
        # botocore now derives an account-scoped streams host that moto does not route; the classic
        # regional endpoint (or the emulator's own, when set) is what moto answers on.
        self._streams = session.client("dynamodbstreams", endpoint_url=os.environ.get(
            "AWS_ENDPOINT_URL_DYNAMODB") or os.environ.get("AWS_ENDPOINT_URL") or STREAMS_ENDPOINT)
        self._positions: dict[str, _Stream] = {}  # by consuming function and table (one function may read several)
        self.held: set[str] = set()  # functions whose event sources are not polled for now (tests hold the poster)
        self._consumers = []
        specs = {spec.logical_id: spec for spec in template.functions()}
        for spec in specs.values():
            for source in spec.sources:
                self._consumers.append((spec.logical_id, spec.load(), source))
        # The schedules are the ones EventBridge Scheduler holds (the emulator created them from the template).
        scheduler = session.client("scheduler")
        self._schedules = []
        for summary in scheduler.list_schedules().get("Schedules", []):
            schedule = scheduler.get_schedule(Name=summary["Name"])
            function = schedule["Target"]["Arn"].rsplit(":", 1)[1]
            self._schedules.append({"function": function, "handler": specs[function].load(),
                                    "event": json.loads(schedule["Target"].get("Input") or "{}"),
                                    "every": interval(schedule["ScheduleExpression"]), "next": None,
                                    "next_work": getattr(import_module(specs[function].module), "next_work", None)})
        self._schedules.sort(key=lambda s: s["every"])  # the finest grid first (advance() asks it first)

    @property
    def consumers(self) -> set[str]:
        """The functions fed by a stream or a queue."""
        return {function for function, _, _ in self._consumers}

    def tick(self) -> list[dict[str, Any]]:
        now = self._clock.now()
        for stream in self._positions.values():
            stream.stale = True  # look for new shards now and then (they are cached between ticks)
        due = [s for s in self._schedules if s["next"] is None or now >= s["next"]]
        ran = self._fire(now, due)
        for schedule in due:  # a tick's own grid (advance() leaves it alone: a tick after one runs what is due)
            schedule["next"] = next_fire(now, schedule["every"])
        return ran

    def deliver(self) -> list[dict[str, Any]]:
        """Feed what the streams and queues hold to their consumers until nothing moves (no schedule runs)."""
        ran: list[dict[str, Any]] = []
        for _ in range(50):
            if not self._pump(ran):
                break
        return ran

    def advance(self, seconds: int) -> int:
        """Move the clock ``seconds`` forward through every schedule slot on the way, in order: at each, the
        clock is set to it and what is due there runs as a tick would run it (the schedules on that slot, then
        the streams and queues until nothing moves); then the clock is set to the end. A slot is skipped when
        the schedules on it have nothing to do, as their function says; returns how many slots ran."""
        start = self._clock.now()
        until, cursor, slots = start + timedelta(seconds=seconds), start, 0
        while (slot := self._next_slot(cursor, until)) is not None:
            self._move_to(slot)
            self._fire(slot, [s for s in self._schedules if first_fire(slot, s["every"]) == slot])
            cursor, slots = slot, slots + 1
        self._move_to(until)
        return slots

    def _next_slot(self, after: datetime, until: datetime) -> datetime | None:
        """The first slot after ``after`` and not after ``until`` where a schedule has something to do."""
        found: datetime | None = None
        for schedule in self._schedules:  # finest grid first: what it finds bounds what the others look through
            every, horizon = schedule["every"], found or until
            slot = next_fire(after, every)
            if slot > horizon:
                continue
            if schedule["next_work"] is not None:
                try:
                    work = schedule["next_work"](dict(schedule["event"]), after, horizon)
                except Exception:
                    traceback.print_exc()  # cannot tell: run the schedule at its every slot
                    work = slot
                if work is None:
                    continue
                slot = max(slot, first_fire(work, every))
            if slot <= horizon:
                found = slot
        return found

    def _move_to(self, instant: datetime) -> None:
        ahead = math.ceil((instant - self._clock.now()).total_seconds())
        if ahead > 0:
            self._clock.advance(ahead)

    def _fire(self, now: datetime, schedules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        ran: list[dict[str, Any]] = []
        for schedule in schedules:
            self._pump(ran)  # what the streams carry is processed before the schedule looks
            ran.append({"function": schedule["function"], "trigger": "schedule", "event": schedule["event"],
                        "result": self._call(schedule["handler"], dict(schedule["event"]), schedule["function"])})
        return ran + self.deliver()

    def _may_hold(self, function: str, source: template.EventSource) -> bool:
        """False when the emulator shows, without a call, that the source holds nothing for this consumer."""
        if source.kind == "sqs":
            return emulator.queue_holds_messages(self._names[source.resource].rsplit("/", 1)[1]) is not False
        end = emulator.stream_end(self._names[source.resource])
        stream = self._positions.get(_reader(function, source))
        if stream is not None and stream.retry:
            return True
        return end is None or end > (stream.read_to if stream is not None else 0)

    def _pump(self, ran: list[dict[str, Any]]) -> int:
        moved = 0
        for function, handler, source in self._consumers:
            if function in self.held or not self._may_hold(function, source):
                continue
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
            else:
                self._checkpoint(_reader(function, source), source, batch, failed)
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

    def _checkpoint(self, reader: str, source: template.EventSource, batch: list[dict[str, Any]],
                    failed: set[str]) -> None:
        """As Lambda does with a stream batch that reports failures: deliver it again from the first failed record
        (the records before it are done), and once that record has failed more than MaximumRetryAttempts
        times, send its position to the on-failure destination and go on after it."""
        stream = self._positions[reader]
        first = next((n for n, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed), None)
        if first is None:
            stream.retry, stream.attempts = [], 0
            return
        same = bool(stream.retry) and stream.retry[0]["dynamodb"]["SequenceNumber"] == \
            batch[first]["dynamodb"]["SequenceNumber"]
        stream.retry, stream.attempts = batch[first:], (stream.attempts + 1 if same else 1)
        if 0 <= source.retries < stream.attempts:
            self._dead_letter(source, stream, stream.retry[0])
            stream.retry, stream.attempts = stream.retry[1:], 0

    def _dead_letter(self, source: template.EventSource, stream: _Stream, record: dict[str, Any]) -> None:
        """What Lambda sends an on-failure destination for a stream: where the record is, not the record."""
        if source.on_failure is None:
            return
        seq = record["dynamodb"]["SequenceNumber"]
        self._sqs.send_message(QueueUrl=self._names[source.on_failure], MessageBody=json.dumps({
            "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": stream.attempts},
            "DDBStreamBatchInfo": {"streamArn": stream.arn, "startSequenceNumber": seq, "endSequenceNumber": seq,
                                   "batchSize": 1, "approximateArrivalOfFirstRecord": None},
        }))

    def _stream_batch(self, function: str, source: template.EventSource) -> list[dict[str, Any]]:
        """The next records of the stream that pass the mapping's filters (read on past records they drop);
        first, the records of a batch that failed, from its first failed record."""
        stream = self._positions.get(_reader(function, source))
        if stream is not None and stream.retry:
            return stream.retry[:source.batch_size]
        if stream is None or stream.stale:
            stream = self._discover(_reader(function, source), source, stream)
        records: list[dict[str, Any]] = []
        for shard, iterator in stream.iterators.items():
            if iterator is None:
                continue  # closed and read to its end
            if shard in stream.after:  # a fresh iterator: moto replaces a table (and its stream) when it rolls
                iterator = self._streams.get_shard_iterator(  # back a cancelled transaction, so old ones go stale
                    StreamArn=stream.arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    SequenceNumber=stream.after[shard])["ShardIterator"]
            while iterator is not None and not records:
                answer = self._streams.get_records(ShardIterator=iterator, Limit=source.batch_size)
                iterator = answer.get("NextShardIterator")
                for record in answer.get("Records", []):
                    stream.after[shard] = record["dynamodb"]["SequenceNumber"]
                    stream.read_to = max(stream.read_to, int(record["dynamodb"]["SequenceNumber"]))
                    record = {**record, "eventSourceARN": stream.arn}
                    if not source.filters or any(matches(f, record) for f in source.filters):
                        records.append(json.loads(json.dumps(record, default=_plain)))
                if not answer.get("Records"):
                    break
            stream.iterators[shard] = iterator
            if iterator is None:
                stream.stale = True  # the shard has just closed: its children are looked for before the next read
            if records:
                break
        return records

    def _discover(self, reader: str, source: template.EventSource, known: _Stream | None) -> _Stream:
        """The stream's shards, a new one read from its start (TRIM_HORIZON), as Lambda's poller does."""
        arn = self._dynamodb.describe_table(TableName=self._names[source.resource])["Table"]["LatestStreamArn"]
        stream = known if known is not None and known.arn == arn else _Stream(arn)
        for shard in self._streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            if shard["ShardId"] not in stream.iterators:
                stream.iterators[shard["ShardId"]] = self._streams.get_shard_iterator(
                    StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        stream.stale = False
        self._positions[reader] = stream
        return stream

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


def _reader(function: str, source: template.EventSource) -> str:
    """Whose position in a stream: a function's in one table's stream (a function may read several, as Lambda
    keeps a position per event source mapping)."""
    return f"{function}:{source.resource}"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, bytes):
        return value.decode()
    return str(value)


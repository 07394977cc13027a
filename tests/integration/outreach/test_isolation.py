"""What goes on the outreach queues is a reference, and one bad reminder never holds up the others."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import boto3
import pytest

from localdev.server import LambdaContext
from loyalty.outreach.messaging import SqsQueue
from loyalty.outreach.store import Refused
from loyalty.shared.clock import FixedClock
from loyalty.shared.dynamo import from_item
from tests.support import Api

# A purchase at its longest: 200 items with 200-character names (was: each follow-up carried them all, 275 KB
# and more on the send queue, over SQS's 256 KB, and the dispatcher failed at it run after run).
LONG_ITEMS = [{"sku": f"SKU-{n:03d}", "name": f"{n:03d} " + "长" * 196, "category": "car-care", "quantity": 1}
              for n in range(200)]


def _member(api: Api, sub: str) -> None:
    api.sign_up(sub, None, marketing_opt_in=True, locale="en", time_zone="Asia/Shanghai")


def _offered(monkeypatch: pytest.MonkeyPatch, refuse: Any = lambda message: False) -> list[dict[str, Any]]:
    """Every message offered to a queue (the dispatcher offers the due ones); ``refuse`` picks ones SQS refuses."""
    real, seen = SqsQueue.offer, []

    def offer(self: SqsQueue, messages: Any) -> list[Refused]:
        seen.extend(messages)
        refused = [Refused(n, "refused for the test") for n, m in enumerate(messages) if refuse(m)]
        rest = [n for n in range(len(messages)) if n not in {r.index for r in refused}]
        return refused + [replace(r, index=rest[r.index]) for r in real(self, [messages[n] for n in rest])]

    monkeypatch.setattr(SqsQueue, "offer", offer)
    return seen


def _outreach_items(pk: str) -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    table = next(t for t in client.list_tables()["TableNames"] if "Outreach" in t)
    answer = client.query(TableName=table, KeyConditionExpression="pk = :p", ExpressionAttributeValues={
        ":p": {"S": pk}})
    return [from_item(i) for i in answer["Items"]]


def test_a_long_order_is_queued_by_reference_and_its_email_still_lists_it(
        api: Api, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    _member(api, "dan")
    seen = _offered(monkeypatch)
    assert api.purchase("O-1", "dan", 12900, items=LONG_ITEMS).status == 201
    api.tick()
    assert seen and max(len(json.dumps(m, ensure_ascii=False).encode()) for m in seen) < 2048
    assert all("items" not in m["data"] for m in seen)
    thanks = api.outbox("dan@example.com")
    assert [m["subject"] for m in thanks] == ["Thank you for your purchase, Dan"]
    assert "199 长长" in thanks[0]["text"]
    due = [json.loads(i["message"]) for shard in range(8) for i in _outreach_items(f"DUE#{shard:02d}")]
    assert due and all(len(json.dumps(m).encode()) < 2048 for m in due)  # the due index keeps references too


def test_an_unreadable_due_item_is_set_aside_and_the_rest_go_out(api: Api, clock: FixedClock) -> None:
    client = boto3.client("dynamodb")
    table = next(t for t in client.list_tables()["TableNames"] if "Outreach" in t)
    for shard in range(8):  # earlier than anything else, in every shard
        client.put_item(TableName=table, Item={"pk": {"S": f"DUE#{shard:02d}"},
                                               "sk": {"S": "2026-01-01T00:00:00Z#x#thank_you#broken"},
                                               "message": {"S": "{not json"}})
    _member(api, "dan")
    api.purchase("O-1", "dan", 12900)
    api.tick()
    assert [m["subject"] for m in api.outbox("dan@example.com")] == ["Thank you for your purchase, Dan"]
    kept = _outreach_items("QUARANTINE#DUE")
    assert len(kept) == 8 and {i["reason"] for i in kept} == {"not a readable reminder"}
    assert all(i["sk"] != "2026-01-01T00:00:00Z#x#thank_you#broken" for s in range(8)
               for i in _outreach_items(f"DUE#{s:02d}"))
    api.tick()  # and the next run does not meet them again
    assert len(_outreach_items("QUARANTINE#DUE")) == 8


def test_a_reminder_the_queue_refuses_does_not_hold_up_the_others(
        api: Api, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    _member(api, "dan")
    _member(api, "eve")
    _offered(monkeypatch, refuse=lambda message: message["member_id"] == "dan")
    api.purchase("O-1", "dan", 12900)
    api.purchase("O-2", "eve", 12900)
    api.tick()
    assert [m["subject"] for m in api.outbox("eve@example.com")] == ["Thank you for your purchase, Eve"]
    assert api.outbox("dan@example.com") == []
    kept = _outreach_items("QUARANTINE#DUE")
    assert [(json.loads(i["message"])["member_id"], i["reason"]) for i in kept] == [
        ("dan", "the send queue refused it: refused for the test")]


def test_a_poisoned_message_on_the_send_queue_fails_alone(api: Api, clock: FixedClock) -> None:
    from functions.sender import app as sender

    _member(api, "dan")
    good = {"member_id": "dan", "kind": "greeting", "occasion": "O-9", "due_at": "2026-11-23T09:00:00Z",
            "expires_at": "2026-11-30T09:00:00Z", "data": {"order_id": "O-9"}}
    records = [{"messageId": "poison", "body": "{not json", "receiptHandle": "r1", "eventSource": "aws:sqs",
                "attributes": {}, "messageAttributes": {}},
               {"messageId": "good", "body": json.dumps(good), "receiptHandle": "r2", "eventSource": "aws:sqs",
                "attributes": {}, "messageAttributes": {}}]
    answer = sender.handler({"Records": records}, LambdaContext("SenderFunction"))
    assert answer == {"batchItemFailures": [{"itemIdentifier": "poison"}]}
    assert api.messages("dan")[("greeting", "O-9")]["status"] == "dropped"  # handled: the order is unknown


def _sqs_fails(monkeypatch: pytest.MonkeyPatch, member_id: str, *, sender_fault: bool, times: int) -> list[str]:
    """SendMessageBatch answers a ``Failed`` entry (``SenderFault`` as given) for the member's messages, the
    first ``times`` times it meets one; the other entries go to the queue. The codes it answered, in order."""
    failures: list[str]
    real_init, failures = SqsQueue.__init__, []

    class Client:
        def __init__(self, client: Any) -> None:
            self._client = client

        def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
            failed = [e for e in Entries if json.loads(e["MessageBody"])["member_id"] == member_id
                      and len(failures) < times]
            code = "InvalidParameterValue" if sender_fault else "InternalError"
            failures.extend(code for _ in failed)
            rest = [e for e in Entries if e not in failed]
            answer = self._client.send_message_batch(QueueUrl=QueueUrl, Entries=rest) if rest else {}
            return {**answer, "Failed": answer.get("Failed", []) + [
                {"Id": e["Id"], "SenderFault": sender_fault, "Code": code, "Message": f"{code} for the test"}
                for e in failed]}

    def init(self: SqsQueue, client: Any, url: str) -> None:
        real_init(self, Client(client), url)

    monkeypatch.setattr(SqsQueue, "__init__", init)
    return failures


def _due(member_id: str) -> list[dict[str, Any]]:
    return [m for shard in range(8) for i in _outreach_items(f"DUE#{shard:02d}")
            if (m := json.loads(i["message"]))["member_id"] == member_id]


def test_a_reminder_sqs_could_not_take_for_now_stays_due_and_goes_out_on_the_next_run(
        api: Api, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    _member(api, "dan")
    _member(api, "eve")
    failures = _sqs_fails(monkeypatch, "dan", sender_fault=False, times=1)
    api.purchase("O-1", "dan", 12900)
    api.purchase("O-2", "eve", 12900)
    api.tick()
    assert failures == ["InternalError"]
    assert [m["subject"] for m in api.outbox("eve@example.com")] == ["Thank you for your purchase, Eve"]
    assert api.outbox("dan@example.com") == []
    assert _outreach_items("QUARANTINE#DUE") == []  # was: set aside for an operator, as if the message were bad
    assert [m["kind"] for m in _due("dan")].count("thank_you") == 1
    clock.advance(300)
    api.tick()
    assert [m["subject"] for m in api.outbox("dan@example.com")] == ["Thank you for your purchase, Dan"]
    assert "thank_you" not in [m["kind"] for m in _due("dan")]


def test_a_reminder_sqs_refuses_as_the_senders_fault_is_set_aside(
        api: Api, clock: FixedClock, monkeypatch: pytest.MonkeyPatch) -> None:
    _member(api, "dan")
    failures = _sqs_fails(monkeypatch, "dan", sender_fault=True, times=1)
    api.purchase("O-1", "dan", 12900)
    api.tick()
    assert failures == ["InvalidParameterValue"]
    kept = _outreach_items("QUARANTINE#DUE")
    assert [(json.loads(i["message"])["kind"], i["reason"]) for i in kept] == [
        ("thank_you", "the send queue refused it: InvalidParameterValue for the test")]
    assert "thank_you" not in [m["kind"] for m in _due("dan")]
    clock.advance(300)
    api.tick()
    assert api.outbox("dan@example.com") == []

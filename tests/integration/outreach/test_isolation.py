"""What goes on the outreach queues is a reference, and one bad reminder never holds up the others."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from localdev.server import LambdaContext
from loyalty.outreach.messaging import SqsQueue
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

    def offer(self: SqsQueue, messages: Any) -> list[tuple[int, str]]:
        seen.extend(messages)
        refused = [(n, "refused for the test") for n, m in enumerate(messages) if refuse(m)]
        taken = [m for n, m in enumerate(messages) if n not in dict(refused)]
        return refused + [(n, why) for n, why in real(self, taken)] if taken else refused

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

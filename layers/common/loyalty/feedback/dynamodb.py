"""Feedback on DynamoDB: one table (``FEEDBACK_TABLE``).

- ``FEEDBACK#<feedback_id>`` / ``FEEDBACK``: a feedback, its replies inline (at most ``MAX_REPLIES``), ``version``
  counting its changes (every change is conditioned on the version read);
- three indexes over the same items, each sorted by ``listed`` (``<created_at>#<feedback_id>``): ``by_status``
  (``status``: the inbox), ``by_member`` (``member_id``: a member's own list) and the sparse ``awaiting``
  (``awaiting``: set to ``complaint`` only on an open complaint nobody has answered and no alert was sent for, so
  the schedule's query finds only those).

An email a change plans (a reply to the member, the alert to the staff address) is put in outreach's due index in the
change's own transaction (``outreach.dynamodb.due_item``): the reply and its email are written together or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from loyalty.feedback.domain import COMPLAINT, Feedback, Reply
from loyalty.outreach.dynamodb import due_item
from loyalty.purchases.domain import purchase_key
from loyalty.shared.clock import to_rfc3339
from loyalty.shared.cursors import cursor_of, start_key
from loyalty.shared.dynamo import Cancelled, Dynamo, from_item, to_item
from loyalty.shared.once import Contention

INDEX = {"open": ("by_status", "status"), "closed": ("by_status", "status"), "member": ("by_member", "member_id"),
         "awaiting": ("awaiting", "awaiting")}


def feedback_item(feedback: Feedback) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": f"FEEDBACK#{feedback.feedback_id}", "sk": "FEEDBACK", "feedback_id": feedback.feedback_id,
        "member_id": feedback.member_id, "kind": feedback.kind, "text": feedback.text,
        "created_at": feedback.created_at, "fingerprint": feedback.fingerprint, "status": feedback.status,
        "listed": f"{feedback.created_at}#{feedback.feedback_id}", "version": feedback.version,
        "replies": json.dumps([[r.reply_id, r.text, r.by, r.at] for r in feedback.replies], ensure_ascii=False),
    }
    for name in ("order_id", "rating", "closed_at", "closed_by", "alerted_at"):
        if getattr(feedback, name) is not None:
            item[name] = getattr(feedback, name)
    if feedback.awaiting_reply:
        item["awaiting"] = COMPLAINT
    return item


def feedback_from_item(item: Mapping[str, Any]) -> Feedback:
    return Feedback(
        feedback_id=item["feedback_id"], member_id=item["member_id"], kind=item["kind"], text=item["text"],
        created_at=item["created_at"], fingerprint=item["fingerprint"], order_id=item.get("order_id"),
        rating=int(item["rating"]) if item.get("rating") is not None else None, status=item["status"],
        replies=tuple(Reply(*r) for r in json.loads(item.get("replies") or "[]")),
        closed_at=item.get("closed_at"), closed_by=item.get("closed_by"), alerted_at=item.get("alerted_at"),
        version=int(item.get("version", 0)))


def _start_key(cursor: str, index_key: str, value: str) -> dict[str, Any]:
    """The query's ExclusiveStartKey from a cursor this list gave (ValueError for anything else)."""
    return start_key(cursor, {"pk", "sk", "listed", index_key}, lambda key: key[index_key] == value
                     and key["pk"].startswith("FEEDBACK#") and key["sk"] == "FEEDBACK")


class DynamoFeedbackStore:
    """``feedback.store.FeedbackStore`` on DynamoDB."""

    def __init__(self, db: Dynamo, table: str, operations_table: str, outreach_table: str, due_shards: int) -> None:
        self._db = db
        self._table = table
        self._operations = operations_table
        self._outreach = outreach_table
        self._shards = due_shards

    def feedback(self, feedback_id: str) -> Feedback | None:
        item = self._db.get(self._table, {"pk": f"FEEDBACK#{feedback_id}", "sk": "FEEDBACK"})
        return feedback_from_item(item) if item else None

    def create(self, feedback: Feedback) -> bool:
        return self._db.put_new(self._table, feedback_item(feedback))

    def save(self, before: Feedback, after: Feedback, also: Sequence[dict[str, Any]] = ()) -> None:
        put = {"Put": {"TableName": self._table, "Item": to_item(feedback_item(after)),
                       "ConditionExpression": "version = :v",
                       "ExpressionAttributeValues": to_item({":v": before.version})}}
        try:
            self._db.transact([put, *also])
        except Cancelled:
            # The feedback changed since it was read (its version), or another transaction was writing it or the
            # due item at that moment: nothing was written either way; read again.
            raise Contention(after.feedback_id) from None

    def _page(self, which: str, value: str, *, limit: int, after: str | None,
              forward: bool) -> tuple[list[Feedback], str | None]:
        index, key = INDEX[which]
        kwargs: dict[str, Any] = {
            "TableName": self._table, "IndexName": index, "KeyConditionExpression": "#k = :k", "Limit": limit,
            "ExpressionAttributeNames": {"#k": key}, "ExpressionAttributeValues": to_item({":k": value}),
            "ScanIndexForward": forward}
        if after is not None:
            kwargs["ExclusiveStartKey"] = _start_key(after, key, value)
        answer = self._db.call("query", **kwargs)
        found = [feedback_from_item(from_item(i)) for i in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        return found, cursor_of(last) if last else None

    def listed(self, status: str, *, limit: int, after: str | None) -> tuple[list[Feedback], str | None]:
        return self._page(status, status, limit=limit, after=after, forward=status == "open")

    def of_member(self, member_id: str, *, limit: int, after: str | None) -> tuple[list[Feedback], str | None]:
        return self._page("member", member_id, limit=limit, after=after, forward=False)

    def awaiting_before(self, instant: datetime, limit: int) -> list[Feedback]:
        answer = self._db.call(
            "query", TableName=self._table, IndexName="awaiting", Limit=limit,
            KeyConditionExpression="awaiting = :k AND listed < :s",
            ExpressionAttributeValues=to_item({":k": COMPLAINT, ":s": to_rfc3339(instant)}))
        return [feedback_from_item(from_item(i)) for i in answer.get("Items", [])]

    def oldest_awaiting(self) -> Feedback | None:
        answer = self._db.call("query", TableName=self._table, IndexName="awaiting", Limit=1,
                               KeyConditionExpression="awaiting = :k",
                               ExpressionAttributeValues=to_item({":k": COMPLAINT}))
        items = answer.get("Items", [])
        return feedback_from_item(from_item(items[0])) if items else None

    def order_owner(self, order_id: str) -> str | None:
        item = self._db.get(self._operations, {"pk": purchase_key(order_id)},
                            ProjectionExpression="member_id")
        return str(item["member_id"]) if item and "member_id" in item else None

    def plan(self, reminder: Any) -> dict[str, Any]:
        return {"Put": {"TableName": self._outreach, "Item": to_item(due_item(reminder, self._shards))}}

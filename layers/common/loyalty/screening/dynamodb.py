"""Screening on DynamoDB: one table (``SCREENING_TABLE``, single-table design).

- ``SIG#<kind>#<keyed value>`` / ``<member_id>``: a member that used a signal (a keyed hash, never the value),
  with ``tag``, the holder whose referee the member is (its referrer, ``partner#<id>``, or "").
- ``BURST#<code>`` / ``<hour>``: sign-ups under a code in an hour (``n``), expired by TTL after two days.
- ``REVIEW#<review_id>`` / ``REVIEW``: a review; ``REVIEWS#open`` / ``<created_at>#<review_id>`` and
  ``REVIEWS#decided`` / ``<decided_at>#<review_id>``: the lists (copies of the review), so a page is one Query.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from loyalty.ledger.store import Record
from loyalty.screening.domain import Shared, Verdict
from loyalty.screening.review import OPEN, Review
from loyalty.shared.clock import parse_rfc3339
from loyalty.shared.dynamo import Dynamo, from_item, to_item

SHARED_LIMIT = 100  # users read per signal: a shared family tablet shows, a device farm is held long before 100
BURST_KEPT = timedelta(days=2)


def review_item(review: Review) -> dict[str, Any]:
    item: dict[str, Any] = {
        "review_id": review.review_id, "holder": review.holder, "buyer_id": review.buyer_id,
        "order_id": review.order_id, "asset": review.asset, "amount": review.amount, "kind": review.kind,
        "verdict": review.verdict.to_dict(), "created_at": review.created_at, "status": review.status,
    }
    for name in ("level", "available_at", "rule_version", "decided_at", "decided_by", "note"):
        if getattr(review, name) is not None:
            item[name] = getattr(review, name)
    return item


def review_from_item(item: Mapping[str, Any]) -> Review:
    return Review(
        review_id=item["review_id"], holder=item["holder"], buyer_id=item["buyer_id"], order_id=item["order_id"],
        asset=item["asset"], amount=int(item["amount"]), level=item.get("level"), kind=item["kind"],
        available_at=item.get("available_at"), rule_version=item.get("rule_version"),
        verdict=Verdict.from_dict(item.get("verdict") or {}), created_at=item["created_at"], status=item["status"],
        decided_at=item.get("decided_at"), decided_by=item.get("decided_by"), note=item.get("note"))


def _listed(review: Review) -> dict[str, Any]:
    if review.status == OPEN:
        return {"pk": "REVIEWS#open", "sk": f"{review.created_at}#{review.review_id}"}
    return {"pk": "REVIEWS#decided", "sk": f"{review.decided_at}#{review.review_id}"}


def _cursor(sk: str) -> str:
    return base64.urlsafe_b64encode(sk.encode()).decode().rstrip("=")


def _sk_of(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except ValueError:
        raise ValueError("not a cursor this list gave") from None


class DynamoScreeningStore:
    """``screening.store.ScreeningStore`` on DynamoDB."""

    def __init__(self, db: Dynamo, table: str) -> None:
        self._db = db
        self._table = table

    def shared(self, keys: Mapping[str, Sequence[str]]) -> Shared:
        users: dict[str, dict[str, str]] = {}
        for kind, values in keys.items():
            for value in values:
                answer = self._db.call("query", TableName=self._table, KeyConditionExpression="pk = :k",
                                       ExpressionAttributeValues=to_item({":k": f"SIG#{kind}#{value}"}),
                                       Limit=SHARED_LIMIT)
                for item in map(from_item, answer.get("Items", [])):
                    users.setdefault(kind, {})[str(item["sk"])] = str(item.get("tag", ""))
        return Shared(users)

    def note(self, kind: str, key: str, member_id: str, tag: str) -> None:
        self._db.call("put_item", TableName=self._table,
                      Item=to_item({"pk": f"SIG#{kind}#{key}", "sk": member_id, "tag": tag}))

    def sign_ups(self, code: str, hour: str) -> int:
        item = self._db.get(self._table, {"pk": f"BURST#{code}", "sk": hour})
        return int(item["n"]) if item else 0

    def count_sign_up(self, code: str, hour: str) -> int:
        expires = int((parse_rfc3339(hour) + BURST_KEPT).timestamp())
        answer = self._db.call(
            "update_item", TableName=self._table, Key=to_item({"pk": f"BURST#{code}", "sk": hour}),
            UpdateExpression="ADD n :one SET expires_at = :e", ReturnValues="UPDATED_NEW",
            ExpressionAttributeValues=to_item({":one": 1, ":e": expires}))
        return int(from_item(answer["Attributes"])["n"])

    def review(self, review_id: str) -> Review | None:
        item = self._db.get(self._table, {"pk": f"REVIEW#{review_id}", "sk": "REVIEW"})
        return review_from_item(item) if item else None

    def reviews_by_id(self, review_ids: Sequence[str]) -> dict[str, Review]:
        """These reviews (those that exist), 100 to a read."""
        found: dict[str, Review] = {}
        for start in range(0, len(review_ids), 100):
            keys = [{"pk": f"REVIEW#{r}", "sk": "REVIEW"} for r in review_ids[start:start + 100]]
            for item in self._db.batch_get({self._table: keys}).get(self._table, []):
                review = review_from_item(item)
                found[review.review_id] = review
        return found

    def reviews(self, status: str, *, limit: int, after: str | None) -> tuple[list[Review], str | None]:
        kwargs: dict[str, Any] = {
            "TableName": self._table, "KeyConditionExpression": "pk = :k", "Limit": limit,
            "ExpressionAttributeValues": to_item({":k": f"REVIEWS#{status}"}), "ScanIndexForward": status == OPEN}
        if after is not None:
            kwargs["ExclusiveStartKey"] = to_item({"pk": f"REVIEWS#{status}", "sk": _sk_of(after)})
        answer = self._db.call("query", **kwargs)
        found = [review_from_item(from_item(i)) for i in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        return found, _cursor(from_item(last)["sk"]) if last else None

    def open_before(self, instant: datetime, limit: int) -> list[Review]:
        """Open reviews opened before ``instant``, oldest first (the deadline's schedule approves them)."""
        answer = self._db.call(
            "query", TableName=self._table, KeyConditionExpression="pk = :k AND sk < :s", Limit=limit,
            ExpressionAttributeValues=to_item({":k": "REVIEWS#open", ":s": instant.strftime("%Y-%m-%dT%H:%M:%SZ")}))
        return [review_from_item(from_item(i)) for i in answer.get("Items", [])]

    def opened(self, review: Review) -> list[Record]:
        body = review_item(review)
        return [Record(self._table, {"pk": f"REVIEW#{review.review_id}", "sk": "REVIEW", **body}),
                Record(self._table, {**_listed(review), **body})]

    def decided(self, before: Review, after: Review) -> list[Record]:
        body = review_item(after)
        return [Record(self._table, {"pk": f"REVIEW#{after.review_id}", "sk": "REVIEW", **body}, {"status": OPEN}),
                Record(self._table, _listed(before), {}, delete=True),
                Record(self._table, {**_listed(after), **body})]

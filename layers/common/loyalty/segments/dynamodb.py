"""Segments on DynamoDB: one table (``SEGMENTS_TABLE``), and the spend they are computed from (the Metrics table).

- ``SEG#<member_id>``/``SEGMENT``: a member's segment: ``computed_cell`` (the last recompute's), ``manual_cell``
  (staff's, if any), ``cell`` (the one in force: the manual one if any), ``version`` (every write is conditioned on it);
  the index ``by_cell`` (``cell``, ``member_id``) lists a cell's members;
- ``COUNTS#<nn>``/``COUNTS``: the members per cell, in ``COUNT_SHARDS`` shards, each moved in the transaction that
  moves a member's cell, so the counts are always the items' (read: all shards added). Which shard a move lands in
  does not matter to the sum: the recompute's worker ``n`` moves shard ``n`` only (its workers never meet on one
  item), a manual change the member's ``shard_of`` (it meets a worker's shard rarely; a conflict is tried again);
- ``SETTINGS``/``SETTINGS``: the thresholds; ``RUN``/``LAST``: when the last recompute finished.

The spend: the Metrics table's buyer rows ``BUYERS#<YYYY-MM>``/``<YYYY-MM-DD>#<member>`` (``spend_minor``, net of
refunds, and ``purchases``), which the metrics aggregator keeps exactly once per purchase or refund
(``metrics.dynamodb``): a window's months are queried side by side.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from loyalty.members.dynamodb import member_key
from loyalty.segments.domain import CELLS, DaySpend, Segment, SegmentSettings, Spend, empty_counts, spend_over
from loyalty.shared.cursors import cursor_of, start_key
from loyalty.shared.dynamo import Cancelled, Dynamo, from_item, shard_of, to_item
from loyalty.shared.once import Contention

COUNT_SHARDS = 32  # at least the recompute's workers: each moves the counts in a shard of its own
SETTINGS_KEY = {"pk": "SETTINGS", "sk": "SETTINGS"}
RUN_KEY = {"pk": "RUN", "sk": "LAST"}


def segment_key(member_id: str) -> dict[str, str]:
    return {"pk": f"SEG#{member_id}", "sk": "SEGMENT"}


def segment_item(segment: Segment) -> dict[str, Any]:
    item: dict[str, Any] = {**segment_key(segment.member_id), "member_id": segment.member_id,
                            "computed_cell": segment.computed_cell, "cell": segment.cell,
                            "version": segment.version}
    for name in ("computed_at", "manual_cell", "manual_at", "manual_by"):
        if getattr(segment, name) is not None:
            item[name] = getattr(segment, name)
    return item


def segment_from_item(item: Mapping[str, Any]) -> Segment:
    return Segment(item["member_id"], item["computed_cell"], item.get("computed_at"), item.get("manual_cell"),
                   item.get("manual_at"), item.get("manual_by"), int(item.get("version", 0)))


def _start_key(cursor: str, cell: str) -> dict[str, Any]:
    return start_key(cursor, {"pk", "sk", "cell", "member_id"}, lambda key: key["cell"] == cell
                     and key["pk"] == f"SEG#{key['member_id']}" and key["sk"] == "SEGMENT")


class DynamoSegmentStore:
    """``segments.store.SegmentStore`` on DynamoDB."""

    def __init__(self, db: Dynamo, table: str, members_table: str, parts: int = 8) -> None:
        self._db = db
        self._table = table
        self._members = members_table
        self.parts = min(max(1, parts), COUNT_SHARDS)

    def settings(self) -> SegmentSettings:
        item = self._db.get(self._table, SETTINGS_KEY)
        if not item:
            return SegmentSettings()
        return SegmentSettings(**{k: int(item[k]) for k in SegmentSettings.__dataclass_fields__ if k in item})

    def save_settings(self, settings: SegmentSettings) -> None:
        self._db.call("put_item", TableName=self._table, Item=to_item({**SETTINGS_KEY, **vars(settings)}))

    def segment(self, member_id: str) -> Segment | None:
        item = self._db.get(self._table, segment_key(member_id))
        return segment_from_item(item) if item else None

    def _scan(self, table: str, part: int, **kwargs: Any) -> Iterator[dict[str, Any]]:
        kwargs = {"TableName": table, "Segment": part, "TotalSegments": self.parts, **kwargs}
        while True:
            answer = self._db.call("scan", **kwargs)
            yield from answer.get("Items", [])
            if "LastEvaluatedKey" not in answer:
                return
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def member_ids(self, part: int) -> Iterator[str]:
        profile = member_key("x")["sk"]
        for item in self._scan(self._members, part, FilterExpression="sk = :p AND attribute_exists(member_id)",
                               ProjectionExpression="member_id",
                               ExpressionAttributeValues={":p": {"S": profile}}):
            yield item["member_id"]["S"]

    def kept(self, part: int) -> Iterator[Segment]:
        for item in self._scan(self._table, part, FilterExpression="sk = :s",
                               ExpressionAttributeValues={":s": {"S": "SEGMENT"}}):
            yield segment_from_item(from_item(item))

    def write(self, before: Segment | None, after: Segment, shard: int | None = None) -> bool:
        condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"} if before is None else {
            "ConditionExpression": "version = :v", "ExpressionAttributeValues": to_item({":v": before.version})}
        put = {"Put": {"TableName": self._table, "Item": to_item(segment_item(after)), **condition}}
        old = before.cell if before is not None else None
        if old == after.cell:
            items = [put]
        else:
            moves = {after.cell: 1, **({old: -1} if old is not None else {})}
            names = {f"#c{n}": cell for n, cell in enumerate(moves)}
            values = {f":c{n}": amount for n, amount in enumerate(moves.values())}
            shard = shard_of(after.member_id, COUNT_SHARDS) if shard is None else shard
            items = [put, {"Update": {
                "TableName": self._table, "Key": to_item({"pk": f"COUNTS#{shard:02d}", "sk": "COUNTS"}),
                "UpdateExpression": "ADD " + ", ".join(f"#c{n} :c{n}" for n in range(len(moves))),
                "ExpressionAttributeNames": names, "ExpressionAttributeValues": to_item(values)}}]
        try:
            self._db.transact(items)
        except Cancelled as cancelled:
            if cancelled.failed(0):
                return False  # the segment changed since it was read (a manual one set, another run's write)
            raise Contention(f"segment of {after.member_id}: {cancelled}") from None  # a conflict: try again
        return True

    def counts(self) -> dict[str, int]:
        found = empty_counts()
        keys = [{"pk": f"COUNTS#{n:02d}", "sk": "COUNTS"} for n in range(COUNT_SHARDS)]
        for item in self._db.batch_get({self._table: keys}).get(self._table, []):
            for cell in CELLS:
                found[cell] += int(item.get(cell, 0))
        return found

    def last_run(self) -> str | None:
        item = self._db.get(self._table, RUN_KEY)
        return str(item["at"]) if item else None

    def finish_run(self, at: str, members: int, changed: int) -> None:
        self._db.call("put_item", TableName=self._table,
                      Item=to_item({**RUN_KEY, "at": at, "members": members, "changed": changed}))

    def listed(self, cell: str, *, limit: int, after: str | None) -> tuple[list[Segment], str | None]:
        kwargs: dict[str, Any] = {"TableName": self._table, "IndexName": "by_cell", "Limit": limit,
                                  "KeyConditionExpression": "cell = :c",
                                  "ExpressionAttributeValues": to_item({":c": cell})}
        if after is not None:
            kwargs["ExclusiveStartKey"] = _start_key(after, cell)
        answer = self._db.call("query", **kwargs)
        found = [segment_from_item(from_item(i)) for i in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        return found, cursor_of(last) if last else None


class MetricsSpend:
    """``segments.store.SpendSource`` from the metrics aggregator's buyer rows (the Metrics table)."""

    def __init__(self, db: Dynamo, metrics_table: str) -> None:
        self._db = db
        self._table = metrics_table

    def _month(self, month: str, first: str, last: str) -> list[dict[str, Any]]:
        return list(self._db.query(
            TableName=self._table, KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
            ProjectionExpression="sk, purchases, spend_minor",
            ExpressionAttributeValues=to_item({":pk": f"BUYERS#{month}", ":a": f"{first}#", ":b": f"{last}$"})))

    def spending(self, first: str, last: str) -> dict[str, Spend]:
        return spend_over(self.daily(first, last), first, last)

    def daily(self, first: str, last: str) -> list[DaySpend]:
        from loyalty.metrics.dynamodb import months

        found: list[DaySpend] = []
        with ThreadPoolExecutor(max_workers=4) as pool:
            for rows in pool.map(lambda m: self._month(m, first, last), months(first, last)):
                for row in rows:
                    day, member = row["sk"].split("#", 1)
                    found.append(DaySpend(day, member, int(row.get("spend_minor", 0)), int(row.get("purchases", 0))))
        return found

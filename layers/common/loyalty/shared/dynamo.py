"""DynamoDB for every feature's adapter: the item codec and one wrapper around the low-level client.

Features own their items (keys, attributes, mappers) in their ``dynamodb`` modules; this module knows
no table. What it adds to boto3: numbers come back as ints (nothing here is fractional), throttling
and timeouts become ``Contention`` for the use case's retry policy, a cancelled transaction says which
of its items failed, and reads that need several round trips (pages, unprocessed keys) are one call.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from loyalty.shared.once import TRANSIENT_CODES, Contention, Operation

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

CONDITION_FAILED = "ConditionalCheckFailed"


def to_item(item: dict[str, Any]) -> dict[str, Any]:
    """A plain dict as DynamoDB attribute values."""
    return {k: _serializer.serialize(v) for k, v in item.items()}


def _ints(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    return value


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB attribute values as a plain dict; numbers are ints (nothing here is fractional)."""
    return {k: _ints(_deserializer.deserialize(v)) for k, v in item.items()}


def shard_of(key: str, shards: int) -> int:
    """A stable shard for a key, spread evenly (so no index partition runs hot)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") % shards


def error_code(error: Exception) -> str | None:
    return error.response.get("Error", {}).get("Code") if isinstance(error, ClientError) else None


def transient(error: Exception) -> bool:
    if isinstance(error, ClientError):
        return error_code(error) in TRANSIENT_CODES
    return isinstance(error, (BotoConnectionError, HTTPClientError))


class Cancelled(Exception):
    """A transaction was cancelled; ``reasons`` has one code per item (``None`` for items that were fine)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(",".join(reasons))
        self.reasons = reasons

    def failed(self, index: int) -> bool:
        """Whether the item at ``index`` failed its condition."""
        return index < len(self.reasons) and self.reasons[index] == CONDITION_FAILED


class Dynamo:
    """The low-level client, with the behaviour every adapter wants."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def call(self, operation: str, **kwargs: Any) -> Any:
        """One DynamoDB call; throttling and timeouts become Contention for the use case to retry."""
        try:
            return getattr(self.client, operation)(**kwargs)
        except (ClientError, BotoConnectionError, HTTPClientError) as error:
            if transient(error):
                raise Contention(str(error)) from error
            raise

    def get(self, table: str, key: dict[str, Any], **kwargs: Any) -> dict[str, Any] | None:
        answer = self.call("get_item", TableName=table, Key=to_item(key), ConsistentRead=True, **kwargs)
        return from_item(answer["Item"]) if "Item" in answer else None

    def batch_get(self, requests: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
        """Items of several tables in one round trip (strongly consistent), by table.

        Keys DynamoDB could not serve now are asked for again at once, twice; after that the caller's
        retry policy (with its backoff and time budget) decides, not a second loop here.
        """
        found: dict[str, list[dict[str, Any]]] = {}
        pending = {table: {"Keys": [to_item(k) for k in keys], "ConsistentRead": True}
                   for table, keys in requests.items() if keys}
        for _ in range(3):
            if not pending:
                return found
            answer = self.call("batch_get_item", RequestItems=pending)
            for table, items in answer.get("Responses", {}).items():
                found.setdefault(table, []).extend(from_item(i) for i in items)
            pending = answer.get("UnprocessedKeys") or {}
        if pending:
            raise Contention("reads were not served in time")
        return found

    def query(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every item a query finds, page after page."""
        while True:
            answer = self.call("query", **kwargs)
            yield from (from_item(i) for i in answer.get("Items", []))
            if "LastEvaluatedKey" not in answer:
                return
            kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]

    def delete_many(self, table: str, keys: list[dict[str, Any]]) -> None:
        """Delete up to 25 items in one ``BatchWriteItem`` (deleting what is gone already is not an error); keys
        DynamoDB did not get to are sent again at once, twice, then left to the caller's retry policy."""
        pending = {table: [{"DeleteRequest": {"Key": to_item(k)}} for k in keys]} if keys else {}
        for _ in range(3):
            if not pending:
                return
            pending = self.call("batch_write_item", RequestItems=pending).get("UnprocessedItems") or {}
        if pending:
            raise Contention("deletes were not served in time")

    def put_new(self, table: str, item: dict[str, Any], key_attribute: str = "pk") -> bool:
        """Put an item unless its key is taken. True if it was written."""
        try:
            self.call("put_item", TableName=table, Item=to_item(item),
                      ConditionExpression=f"attribute_not_exists({key_attribute})")
        except ClientError as error:
            if error_code(error) == f"{CONDITION_FAILED}Exception":
                return False
            raise
        return True

    def transact(self, items: list[dict[str, Any]]) -> None:
        """All of ``items`` or none. A cancelled transaction raises ``Cancelled`` with each item's reason;
        throttling, a conflict with another transaction or a timeout (which may or may not have applied)
        raise ``Contention``: the caller re-reads, and its records tell a replay from a first attempt."""
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if error_code(error) != "TransactionCanceledException":
                if transient(error):
                    raise Contention(str(error)) from error
                raise
            reasons = [r.get("Code", "None") for r in error.response.get("CancellationReasons", [])]
            raise Cancelled(reasons) from None
        except (BotoConnectionError, HTTPClientError) as error:
            raise Contention(str(error)) from error


# --- operation records (the Operations table, ``pk``: one record per business event) ------------------

def operation_item(op: Operation) -> dict[str, Any]:
    return {
        "pk": op.key, "fingerprint": op.fingerprint, "status": op.status,
        "response": json.dumps(op.response, separators=(",", ":"), ensure_ascii=False), "created_at": op.created_at,
        **op.state,
    }


def operation_from_item(item: dict[str, Any]) -> Operation:
    fixed = {"pk", "fingerprint", "status", "response", "created_at"}
    return Operation(
        key=item["pk"], fingerprint=item["fingerprint"], status=item["status"],
        response=json.loads(item["response"]), created_at=item["created_at"],
        state={k: v for k, v in item.items() if k not in fixed},
    )


def put_operation(table: str, op: Operation) -> dict[str, Any]:
    """The transaction item that records an event, only if it was never recorded."""
    return {"Put": {"TableName": table, "Item": to_item(operation_item(op)),
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def table_of(arn: str) -> str:
    """The table a stream record comes from, by its stream's ARN (``…:table/<name>/stream/<label>``)."""
    return arn.split(":table/", 1)[1].split("/", 1)[0]

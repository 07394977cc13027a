"""The emulator's cheaper rollback (localdev/moto_transactions.py) leaves what moto's own left: a cancelled
transaction changes no item and adds no stream record, whichever of its parts failed; a committed one writes all."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from localdev import emulator, moto_transactions

TABLE = "rollback-check"


@pytest.fixture
def client(aws: dict[str, str]) -> Any:
    moto_transactions.install()
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(
        TableName=TABLE, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    for n in range(50):  # a table with more in it than the transactions touch
        dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": f"m{n % 5}"}, "sk": {"S": f"e{n}"}, "v": {"N": str(n)}})
    return dynamodb


def _state(dynamodb: Any) -> tuple[list[dict[str, Any]], int]:
    items = dynamodb.scan(TableName=TABLE)["Items"]
    end = emulator.stream_end(TABLE)  # the last stream record's sequence number, from moto's memory
    assert end
    return sorted(items, key=lambda i: (i["pk"]["S"], i["sk"]["S"])), end


def _writes(last: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "new"}, "sk": {"S": "x"}, "v": {"N": "1"}}}},
        {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "m1"}, "sk": {"S": "e1"}},
                    "UpdateExpression": "SET v = v + :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "m2"}, "sk": {"S": "e2"}}}},
        last,
    ]


@pytest.mark.parametrize("last", [
    {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "m3"}, "sk": {"S": "e3"}},
                        "ConditionExpression": "attribute_not_exists(pk)"}},
    {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "m4"}, "sk": {"S": "e4"}, "v": {"N": "9"}},
             "ConditionExpression": "v = :no", "ExpressionAttributeValues": {":no": {"N": "-1"}}}},
    {"Update": {"TableName": TABLE, "Key": {"pk": {"S": "m1"}, "sk": {"S": "e1"}}, "UpdateExpression": "SET v = :v",
                "ExpressionAttributeValues": {":v": {"N": "0"}}}},  # the same item twice: refused as a whole
], ids=["failed check", "failed put", "same item twice"])
def test_a_cancelled_transaction_changes_no_item_and_adds_no_stream_record(client: Any, last: dict[str, Any]) -> None:
    before = _state(client)
    with pytest.raises(ClientError):
        client.transact_write_items(TransactItems=_writes(last))
    assert _state(client) == before


def test_a_committed_transaction_writes_every_part(client: Any) -> None:
    (items, records) = _state(client)
    client.transact_write_items(TransactItems=_writes(
        {"ConditionCheck": {"TableName": TABLE, "Key": {"pk": {"S": "m3"}, "sk": {"S": "e3"}},
                            "ConditionExpression": "attribute_exists(pk)"}}))
    after, after_records = _state(client)
    keys = {(i["pk"]["S"], i["sk"]["S"]): i["v"]["N"] for i in after}
    assert ("new", "x") in keys and ("m2", "e2") not in keys and keys[("m1", "e1")] == "2"
    assert len(after) == len(items) and after_records == records + 3

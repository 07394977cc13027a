"""Lambda's poller for the CreditQueue table's stream on DynamoDB Local: what a test has queued reaches the poster
(``functions.poster.app.post``), in stream order, a failed batch again from its first failed record."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3


class StreamPoster:
    def __init__(self, db: Any, endpoint: str) -> None:
        self.db = db
        self.streams = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="us-east-1")
        self.after: dict[str, str] = {}  # per shard, the last sequence number read

    def records(self) -> list[dict[str, Any]]:
        """The stream's INSERT records not read yet, in order."""
        arn = self.db.describe_table(TableName="CreditQueueTable")["Table"]["LatestStreamArn"]
        found: list[dict[str, Any]] = []
        for shard in self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
            sid = shard["ShardId"]
            where = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self.after[sid]} \
                if sid in self.after else {"ShardIteratorType": "TRIM_HORIZON"}
            iterator = self.streams.get_shard_iterator(StreamArn=arn, ShardId=sid, **where)["ShardIterator"]
            while iterator:
                answer = self.streams.get_records(ShardIterator=iterator, Limit=1000)
                if not answer["Records"]:
                    break
                for record in answer["Records"]:
                    self.after[sid] = record["dynamodb"]["SequenceNumber"]
                    if record["eventName"] == "INSERT":
                        found.append(record)
                iterator = answer.get("NextShardIterator")
        return found

    def drain(self, post: Callable[[list[dict[str, Any]]], list[str]], batch_size: int = 1000,
              attempts: int = 30) -> int:
        """Post everything queued so far, ``batch_size`` records at a time (the mapping's BatchSize); how many
        records were delivered (redeliveries included)."""
        waiting, delivered, tries = self.records(), 0, 0
        while waiting:
            batch = waiting[:batch_size]
            delivered += len(batch)
            failed = set(post(batch))
            first = next((n for n, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed), None)
            if first is None:
                waiting, tries = waiting[len(batch):], 0
                continue
            tries += 1
            if tries >= attempts:
                raise AssertionError(f"the poster still failed {len(batch) - first} records after {attempts} tries")
            waiting = waiting[first:]
        return delivered

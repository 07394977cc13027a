"""Referrers' credits are queued by the purchase and posted by the poster: visible as queued until then,
posted once whatever the stream does (delivers twice, crashes mid-batch, meets a poison record), and
reversed by refunds whether they were still queued or already posted."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from loyalty.ledger.dynamodb import DynamoLedgerStore
from loyalty.shared.clock import FixedClock
from tests.support import Api

WEEK = 7 * 86400


def entries(api: Api, member: str) -> list[tuple[str, int, str, str, Any]]:
    return [(e["kind"], e["amount"], e["source"]["type"], e["source"]["id"], e.get("parts"))
            for e in reversed(api.ledger(member))]


def test_a_referrers_credit_is_queued_until_the_poster_posts_it(api: Api) -> None:
    api.chain("bob", "carol", "dan")
    with api.poster_held():
        reply = api.purchase("O-1", "dan", 12900)
        assert [(c["member_id"], c["status"]) for c in reply.body["credits"]] == [
            ("dan", "posted"), ("carol", "queued"), ("bob", "queued")]
        assert api.points("dan") == {"available": 0, "pending": 129, "lifetime_earned": 129}
        assert api.queued("carol") == {"available": 0, "pending": 0, "lifetime_earned": 0, "queued": 12}
        assert api.queued("bob")["queued"] == 6 and api.ledger("carol") == [] and api.ledger("bob") == []
    assert api.points("carol") == {"available": 0, "pending": 12, "lifetime_earned": 12}
    assert entries(api, "carol") == [("referral", 12, "purchase", "O-1", None)]
    assert api.verify("carol")["chain_valid"] and api.verify("bob")["balances_match"]


def test_a_batch_for_one_referrer_is_one_entry_that_lists_each_order(api: Api) -> None:
    api.chain("carol", "dan")
    api.sign_up("erin", api.call("GET", "/v1/members/carol", as_="carol").body["referral_code"])
    with api.poster_held():
        for n, buyer in enumerate(["dan", "erin", "dan"]):
            assert api.purchase(f"O-{n}", buyer, 10000 + n * 1000).status == 201
        assert api.queued("carol")["queued"] == 10 + 11 + 12
    assert entries(api, "carol") == [
        ("referral", 33, "batch", entries(api, "carol")[0][3],
         [["purchase/O-0", 10], ["purchase/O-1", 11], ["purchase/O-2", 12]])]
    report = api.verify("carol")
    assert report["chain_valid"] and report["balances_match"] and report["entries"] == 1
    assert api.points("carol") == {"available": 0, "pending": 33, "lifetime_earned": 33}


def test_a_refund_of_a_credit_still_queued_cancels_it_exactly(api: Api) -> None:
    api.chain("carol", "dan")
    with api.poster_held():
        api.purchase("O-1", "dan", 12900)
        refund = api.refund("O-1", "R-1", 12900)
        assert [(r["member_id"], r["points"], r["status"]) for r in refund.body["reversals"]] == [
            ("dan", 129, "posted"), ("carol", 12, "queued")]
        assert api.queued("carol")["queued"] == 0  # the credit and its reversal, both still queued
    assert entries(api, "carol") == [("referral", 12, "purchase", "O-1", None),
                                     ("refund", -12, "refund", "O-1/R-1", None)]
    assert api.points("carol") == {"available": 0, "pending": 0, "lifetime_earned": 0}


def test_a_refund_after_the_hold_reverses_the_posted_credit_out_of_available(api: Api, clock: FixedClock) -> None:
    api.chain("carol", "dan")
    api.purchase("O-1", "dan", 12900)
    clock.advance(WEEK)
    with api.poster_held():
        api.refund("O-1", "R-1", 4300)
        assert api.queued("carol") == {"available": 12, "pending": 0, "lifetime_earned": 12, "queued": -4}
    assert api.points("carol") == {"available": 8, "pending": 0, "lifetime_earned": 8}
    assert api.verify("carol")["balances_match"]


def queue_records(dynamodb: Any) -> list[dict[str, Any]]:
    """What the CreditQueue's stream holds, as Lambda would deliver it (its INSERTs, with their positions)."""
    streams = boto3.client("dynamodbstreams", endpoint_url="https://streams.dynamodb.us-east-1.amazonaws.com")
    arn = dynamodb.describe_table(TableName="CreditQueueTable")["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        found = streams.get_records(ShardIterator=iterator)["Records"]
        records += [{**r, "dynamodb": {**r["dynamodb"], "ApproximateCreationDateTime": 0}} for r in found
                    if r["eventName"] == "INSERT"]
    return records


def run_poster(api: Api, records: list[dict[str, Any]]) -> Any:
    from functions.poster.app import handler

    return api.gateway.run(handler, {"Records": records}, "PosterFunction")


def test_a_batch_delivered_twice_or_in_another_order_across_lanes_is_posted_once(api: Api, dynamodb: Any) -> None:
    api.chain("bob", "carol", "dan")
    with api.poster_held():
        for n in range(6):
            api.purchase(f"O-{n}", "dan", 10000)
        records = queue_records(dynamodb)
        assert run_poster(api, records) == {"batchItemFailures": []}
        assert run_poster(api, records) == {"batchItemFailures": []}
        assert run_poster(api, list(reversed(records[len(records) // 2:]))) == {"batchItemFailures": []}
        assert api.queued("carol") == {"available": 0, "pending": 60, "lifetime_earned": 60, "queued": 0}
        assert api.queued("bob")["pending"] == 30
    # then the stream delivers the same postings itself: nothing more
    assert api.points("carol")["pending"] == 60 and api.points("bob")["pending"] == 30
    assert sum(e["amount"] for e in api.ledger("carol")) == 60


def test_the_poster_crashing_mid_batch_loses_nothing_and_doubles_nothing(api: Api,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    api.chain("bob", "carol", "dan")
    real_commit = DynamoLedgerStore.commit
    crashes: list[str] = []

    def crash_after_the_first_holder(self: DynamoLedgerStore, write: Any) -> None:
        if write.operation is None and write.accounts and write.accounts[0].before.holder == "bob" and not crashes:
            crashes.append("bob")
            raise RuntimeError("the container died")  # carol's batch was committed, bob's was not
        real_commit(self, write)

    monkeypatch.setattr(DynamoLedgerStore, "commit", crash_after_the_first_holder)
    api.purchase("O-1", "dan", 12900)  # the poster runs after the request, crashes, and is run again
    assert crashes == ["bob"]
    assert entries(api, "carol") == [("referral", 12, "purchase", "O-1", None)]
    assert entries(api, "bob") == [("referral", 6, "purchase", "O-1", None)]


def dead_letters() -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="PosterDeadLetters")["QueueUrl"]
    return sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])


def queue_keys(dynamodb: Any) -> set[tuple[str, str]]:
    return {(i["pk"]["S"], i["sk"]["S"]) for i in dynamodb.scan(TableName="CreditQueueTable")["Items"]}


def test_an_item_that_is_no_posting_is_parked_and_the_others_are_posted(api: Api, dynamodb: Any) -> None:
    api.chain("carol", "dan")
    forged = {"pk": {"S": "carol#0"}, "sk": {"S": "2026-11-23T09:00:00Z#purchase/FORGED"},  # edited by hand
              "asset": {"S": "points"}, "amount": {"S": "lots"}, "bucket": {"S": "pending"}, "kind": {"S": "referral"},
              "source_type": {"S": "purchase"}, "source_id": {"S": "FORGED"}}
    with api.poster_held():
        dynamodb.put_item(TableName="CreditQueueTable", Item=forged)
        api.purchase("O-1", "dan", 12900)
    assert api.queued("carol") == {"available": 0, "pending": 12, "lifetime_earned": 12, "queued": 0}
    assert queue_keys(dynamodb) == {("carol#0", "2026-11-23T09:00:00Z#purchase/FORGED")}  # parked, not posted
    assert dead_letters() == []  # nothing is held up: the lane went on


def test_a_posting_that_breaks_the_ledgers_rules_is_parked_and_the_holders_others_are_posted(
        api: Api, dynamodb: Any) -> None:
    """A reversal of a lot the holder never had (a hand-made queue item) cannot be posted: it is left in the
    queue, shown as queued; the credit delivered with it is posted."""
    api.chain("carol", "dan")
    lot = "2026-12-01T09:00:00Z"
    reversal = {"pk": {"S": "carol#0"}, "sk": {"S": "2026-11-23T09:00:00Z#refund/GHOST/R-1"},
                "asset": {"S": "points"}, "amount": {"N": "-5"}, "bucket": {"S": "pending"}, "kind": {"S": "refund"},
                "source_type": {"S": "refund"}, "source_id": {"S": "GHOST/R-1"}, "level": {"N": "1"},
                "rule_version": {"N": "1"}, "available_at": {"S": lot}}
    with api.poster_held():
        dynamodb.put_item(TableName="CreditQueueTable", Item=reversal)
        api.purchase("O-1", "dan", 12900)
    assert entries(api, "carol") == [("referral", 12, "purchase", "O-1", None)]
    assert api.queued("carol") == {"available": 0, "pending": 12, "lifetime_earned": 12, "queued": -5}
    assert queue_keys(dynamodb) == {("carol#0", "2026-11-23T09:00:00Z#refund/GHOST/R-1")}
    assert api.verify("carol")["balances_match"] and dead_letters() == []


def test_a_contended_referrer_is_retried_until_posted(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from loyalty.shared.once import Contention

    api.chain("carol", "dan")
    real_commit = DynamoLedgerStore.commit
    refusals: list[int] = []

    def throttled(self: DynamoLedgerStore, write: Any) -> None:
        if write.operation is None and len(refusals) < 20:  # more than one invocation's retries
            refusals.append(1)
            raise Contention("ProvisionedThroughputExceededException")
        real_commit(self, write)

    monkeypatch.setattr(DynamoLedgerStore, "commit", throttled)
    api.purchase("O-1", "dan", 12900)
    assert len(refusals) == 20
    assert entries(api, "carol") == [("referral", 12, "purchase", "O-1", None)]

"""The ledger's DynamoDB adapter on its own: the conditions ``commit`` writes with.

A redemption's write is conditioned twice: on the account's ``seq`` (nobody wrote since it was read) and on the
stored ``points/available`` (``AccountWrite.at_least``: no overdraft). In every race through the API the seq
condition fails first, so these tests hold seq right and check the bucket condition alone.
"""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest

from loyalty.ledger.accounts import Account
from loyalty.ledger.assets import Bucket, EntryKind
from loyalty.ledger.dynamodb import DynamoLedgerStore
from loyalty.ledger.entries import Source
from loyalty.ledger.posting import Posting, post
from loyalty.ledger.store import AccountWrite, CounterGuard, LedgerWrite, Record
from loyalty.shared.dynamo import Dynamo
from loyalty.shared.once import Contention, Operation
from loyalty.shared.settings import Settings
from tests.support import dump_tables

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
AVAILABLE = ("points", Bucket.AVAILABLE)


@pytest.fixture
def store(aws: dict[str, str]) -> DynamoLedgerStore:
    return DynamoLedgerStore(Dynamo(boto3.client("dynamodb")), Settings.from_env().tables)


def _operation(key: str, state: dict[str, object] | None = None) -> Operation:
    return Operation(key, "fingerprint", 201, {}, "2026-11-23T09:30:00Z", state or {})


def _line(points: int, kind: EntryKind, source: Source) -> Posting:
    return Posting("dan", "points", points, Bucket.AVAILABLE, kind, source)


def _funded(store: DynamoLedgerStore, points: int = 100) -> Account:
    """Dan's account after an adjustment of ``points``, as read back from the table."""
    write = AccountWrite.posting(Account("dan"), [_line(points, EntryKind.ADJUSTMENT, Source("adjustment", "A-1"))],
                                 NOW, None)
    store.commit(LedgerWrite(_operation("adjustment/A-1"), [write]))
    account = store.accounts(["dan"])["dan"]
    assert (account.seq, account.balance("points")[Bucket.AVAILABLE]) == (1, 100)
    return account


def _spend(account: Account, points: int, least: int, name: str = "r-1") -> LedgerWrite:
    result = post(account, [_line(-points, EntryKind.REDEMPTION, Source("redemption", name))], NOW)
    return LedgerWrite(_operation(f"redemption/dan/{name}"),
                       [AccountWrite(account, result.account, result.entries, at_least={AVAILABLE: least})])


def test_a_write_whose_at_least_exceeds_the_stored_bucket_is_refused_though_seq_matches(
        store: DynamoLedgerStore) -> None:
    account = _funded(store)
    before = dump_tables()
    with pytest.raises(Contention):
        store.commit(_spend(account, 60, least=101))
    assert dump_tables() == before  # no operation record, no account change, no entry
    assert store.operation("redemption/dan/r-1") is None


def test_a_write_whose_at_least_equals_the_stored_bucket_commits(store: DynamoLedgerStore) -> None:
    account = _funded(store)
    store.commit(_spend(account, 100, least=100))
    after = store.accounts(["dan"])["dan"]
    assert (after.seq, after.balance("points")[Bucket.AVAILABLE]) == (2, 0)
    assert [(e.seq, e.kind, e.amount) for e in store.entries("dan")] == [
        (1, EntryKind.ADJUSTMENT, 100), (2, EntryKind.REDEMPTION, -100)]
    assert store.operation("redemption/dan/r-1") is not None


def test_a_write_at_a_stale_seq_is_refused(store: DynamoLedgerStore) -> None:
    account = _funded(store)
    store.commit(_spend(account, 10, least=10, name="r-1"))
    before = dump_tables()
    with pytest.raises(Contention):
        store.commit(_spend(account, 10, least=0, name="r-2"))  # read at seq 1, stored is at 2
    assert dump_tables() == before


def test_a_counter_guard_that_moved_since_it_was_read_refuses_the_write(store: DynamoLedgerStore) -> None:
    """A refund too small to reverse a point writes no account: the guard on the purchase's refunded_minor is
    then the only thing between two such refunds and a lost update of what has been refunded."""
    store.commit(LedgerWrite(_operation("purchase/O-1", {"refunded_minor": 0}), []))
    store.commit(LedgerWrite(_operation("refund/O-1/R-1"), [], CounterGuard("purchase/O-1", "refunded_minor", 0, 1)))
    before = dump_tables()
    with pytest.raises(Contention):
        store.commit(LedgerWrite(_operation("refund/O-1/R-2"), [],
                                 CounterGuard("purchase/O-1", "refunded_minor", 0, 1)))  # read before R-1 landed
    assert dump_tables() == before
    store.commit(LedgerWrite(_operation("refund/O-1/R-2"), [], CounterGuard("purchase/O-1", "refunded_minor", 1, 2)))
    found = store.operation("purchase/O-1")
    assert found is not None and found.state["refunded_minor"] == 2


def _principal(account: Account, amount: int, name: str, most: int) -> LedgerWrite:
    line = Posting("dan", "stored_value", amount, Bucket.PRINCIPAL, EntryKind.TOP_UP, Source("top_up", name))
    result = post(account, [line], NOW)
    return LedgerWrite(_operation(f"top_up/{name}"), [AccountWrite(
        account, result.account, result.entries, at_most={("stored_value", Bucket.PRINCIPAL): most})])


def test_a_write_whose_at_most_is_below_the_stored_bucket_is_refused_though_seq_matches(
        store: DynamoLedgerStore) -> None:
    """A cap is part of the write: a bucket never written counts as zero, one above the cap refuses the write."""
    account = _funded(store)  # no stored value yet
    store.commit(_principal(account, 300, "T-1", most=0))
    account = store.accounts(["dan"])["dan"]
    before = dump_tables()
    with pytest.raises(Contention):
        store.commit(_principal(account, 100, "T-2", most=299))  # stored principal is 300
    assert dump_tables() == before
    store.commit(_principal(account, 100, "T-2", most=300))
    assert store.accounts(["dan"])["dan"].balance("stored_value")[Bucket.PRINCIPAL] == 400


class OutOfStock(Exception):
    pass


def test_a_record_update_moves_its_numbers_and_a_failed_condition_raises_its_refusal(
        store: DynamoLedgerStore) -> None:
    """A reward's stock: ``add`` moves the number where ``at_least`` holds; when it does not, the commit raises the
    record's refusal (not Contention: retrying cannot change the answer) and writes nothing."""
    table = Settings.from_env().tables.operations
    store.commit(LedgerWrite(_operation("reward/R-1"), []))
    stock = Record(table, {"pk": "reward/R-1"}, add={"stock": 1})
    store.commit(LedgerWrite(None, [], records=[stock]))  # ADD creates the number: 1
    take = Record(table, {"pk": "reward/R-1"}, expect={"status": 201}, add={"stock": -1},
                  at_least={"stock": 1}, refusal=OutOfStock())
    store.commit(LedgerWrite(_operation("redemption/dan/r-1"), [], records=[take]))
    before = dump_tables()
    with pytest.raises(OutOfStock):
        store.commit(LedgerWrite(_operation("redemption/dan/r-2"), [], records=[take]))
    assert dump_tables() == before
    found = store.operation("reward/R-1")
    assert found is not None and found.state["stock"] == 0 and store.operation("redemption/dan/r-2") is None
    with pytest.raises(Contention):  # a missing item is no refusal of the client's: the record is not there
        store.commit(LedgerWrite(None, [], records=[Record(table, {"pk": "reward/none"}, add={"stock": -1},
                                                           at_least={"stock": 1})]))


class AtTheLimit(Exception):
    pass


def test_a_created_counter_moves_under_its_at_most_and_a_failed_cap_raises_its_refusal(
        store: DynamoLedgerStore) -> None:
    """A coupon template's per-member counter: ``create`` makes the item on the first ``add`` (a number never
    written counts as zero under ``at_most``); once the cap would be passed, the commit raises the record's refusal
    and writes nothing."""
    table = Settings.from_env().tables.operations

    def hold(name: str, limit: int) -> LedgerWrite:
        return LedgerWrite(_operation(f"coupon-issue/{name}"), [], records=[Record(
            table, {"pk": "held/T-1/dan"}, add={"held": 1}, at_most={"held": limit - 1}, create=True,
            refusal=AtTheLimit())])

    store.commit(hold("i-1", 2))
    store.commit(hold("i-2", 2))
    before = dump_tables()
    with pytest.raises(AtTheLimit):
        store.commit(hold("i-3", 2))
    assert dump_tables() == before
    assert _held(table) == 2 and store.operation("coupon-issue/i-3") is None
    store.commit(LedgerWrite(None, [], records=[Record(table, {"pk": "held/T-1/dan"}, expect={}, add={"held": -1})]))
    store.commit(hold("i-3", 2))  # a slot was freed
    assert _held(table) == 2


def _held(table: str) -> int:
    import boto3

    item = boto3.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "held/T-1/dan"}})["Item"]
    return int(item["held"]["N"])

"""What the ledger needs from storage, in its own words (``ledger.dynamodb`` implements it).

A business event is committed as one ``LedgerWrite``: the record that the event happened, an optional
guarded counter on an earlier record, for each holder touched the account before and after with the
entries to append, and the postings it defers to other holders' queues (``ledger.deferred``). The adapter
writes all of it in one transaction or none of it. The poster's batches are ``LedgerWrite``s without an
operation record: the marks in the account they move make them exactly-once. A feature whose own records must
stand or fall with the event (a review of a held credit, its decision) adds them as ``Record``s.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from loyalty.ledger.accounts import Account
from loyalty.ledger.assets import Bucket
from loyalty.ledger.deferred import Deferred
from loyalty.ledger.entries import Entry
from loyalty.ledger.expiry import Expiry, ExpiryPolicy
from loyalty.ledger.posting import Posting, post
from loyalty.shared.once import Operation


@dataclass(frozen=True)
class CounterGuard:
    """Move a number on an existing operation record from ``expected`` to ``new`` (compare-and-set)."""

    key: str
    name: str
    expected: int
    new: int


@dataclass(frozen=True)
class AccountWrite:
    """One holder's part of a write: the account as read, as it will be, and the entries between.

    The write only succeeds if the stored account is still at ``before.seq``; ``at_least`` and ``at_most`` add
    conditions on stored buckets to the same write (a redemption's no-overdraft: stored ``points/available`` at
    least what it spends, less what its own release adds; a top-up's cap: stored principal at most the cap less
    what it adds). A bucket the account has never had counts as zero.
    """

    before: Account
    after: Account
    entries: Sequence[Entry]
    at_least: Mapping[tuple[str, Bucket], int] = field(default_factory=dict)
    at_most: Mapping[tuple[str, Bucket], int] = field(default_factory=dict)  # a cap (stored value's principal)

    @classmethod
    def posting(cls, account: Account, postings: Sequence[Posting], now: datetime, expiry: Expiry) -> AccountWrite:
        result = post(account, postings, now, expiry)
        return cls(account, result.account, result.entries)


@dataclass(frozen=True)
class Record:
    """Another item an event writes in its transaction (a feature's own table, its own item shape): put once
    (``expect`` None: no item with its key yet), or put or deleted where the stored item exists and has the values
    ``expect`` names (``{}``: it exists).

    With ``add`` it is an update of the existing item instead: each named number moves by its delta, where the
    stored item has the values ``expect`` names and each number of ``at_least`` is at least that (a reward's stock:
    ``add={"stock": -1}, at_least={"stock": 1}``). When such a condition fails, the commit raises ``refusal`` (a
    problem the client can act on, like ``409 out-of-stock``) instead of ``Contention``: the race was settled by the
    write's own condition, and retrying cannot change its answer.

    ``at_most`` caps numbers the same way (a number the item has never had counts as zero: a coupon template's
    per-member counter, ``add={"held": 1}, at_most={"held": limit - 1}``); with ``create`` an update may also make
    the item (its numbers start at zero), so ``add`` without ``expect`` needs no item to exist yet."""

    table: str
    item: Mapping[str, Any]  # the whole item to put; for a delete or an update, its key
    expect: Mapping[str, Any] | None = None
    delete: bool = False
    add: Mapping[str, int] | None = None
    at_least: Mapping[str, int] = field(default_factory=dict)
    refusal: Exception | None = None
    at_most: Mapping[str, int] = field(default_factory=dict)
    create: bool = False


@dataclass(frozen=True)
class LedgerWrite:
    operation: Operation | None
    accounts: Sequence[AccountWrite]
    counter: CounterGuard | None = None
    deferred: Sequence[Deferred] = ()
    records: Sequence[Record] = ()


class LedgerStore(Protocol):
    def accounts(self, holders: Sequence[str]) -> dict[str, Account]:
        """The accounts of these holders (an empty account for a holder without one), in one read."""
        ...

    def commit(self, write: LedgerWrite) -> None:
        """All of the write or none; ``OperationRecorded`` if its record exists, ``Contention`` if an account
        or the counter moved since it was read."""
        ...

    def operation(self, key: str) -> Operation | None: ...

    def expiry(self) -> ExpiryPolicy | None:
        """The programme's expiry rule (``ledger.expiry``), read when a write or a read has points to date: pass the
        method itself to ``post`` and ``Account.view``, which call it only then."""
        ...

    def queued(self, holder: str, spread: int) -> dict[str, int]:
        """Per asset, what the holder's queue holds: deferred postings the poster has not applied yet."""
        ...

    def forget(self, applied: Sequence[Deferred]) -> None:
        """Delete deferred postings the poster has applied from their queue."""
        ...

    def entries_page(self, holder: str, *, limit: int, before_seq: int | None) -> tuple[list[Entry], bool]:
        """Up to ``limit`` entries, newest first, below ``before_seq``; and whether more exist."""
        ...

    def entries(self, holder: str) -> Iterator[Entry]:
        """Every entry of a holder in seq order, as found (an entry edited out of shape still comes)."""
        ...

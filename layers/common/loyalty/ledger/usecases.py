"""Reading a holder's ledger page by page, verifying its chain against its account, and posting what other
events deferred to it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from loyalty.ledger.accounts import Account
from loyalty.ledger.deferred import Delivered, batched, unapplied
from loyalty.ledger.entries import Entry
from loyalty.ledger.posting import LedgerInvariantError, post
from loyalty.ledger.store import AccountWrite, LedgerStore, LedgerWrite
from loyalty.ledger.verification import ChainReport, verify
from loyalty.shared.clock import Clock
from loyalty.shared.errors import Busy
from loyalty.shared.once import Contention, RetryPolicy


@dataclass(frozen=True)
class LedgerPage:
    entries: list[Entry]
    has_more: bool


class LedgerService:
    def __init__(self, store: LedgerStore, retry: RetryPolicy | None = None) -> None:
        self._store = store
        self._retry = retry or RetryPolicy()

    def page(self, holder: str, *, limit: int, before_seq: int | None) -> LedgerPage:
        """Up to ``limit`` entries, newest first, below ``before_seq`` (all of them when None)."""
        entries, more = self._retry.run(lambda: self._store.entries_page(holder, limit=limit, before_seq=before_seq))
        return LedgerPage(entries, more)

    def verify(self, holder: str) -> ChainReport:
        """Recompute the holder's chain and sums from the entries, against a stable account head."""

        def attempt() -> ChainReport:
            before = self._store.accounts([holder])[holder]
            entries = list(self._store.entries(holder))
            after = self._store.accounts([holder])[holder]
            if after.seq != before.seq:  # a write landed while reading: read again
                raise Contention(holder)
            return verify(after, entries)

        return self._retry.run(attempt)


@dataclass(frozen=True)
class Applied:
    """What a batch came to: postings to deliver again later (their holder still contended after the retries),
    and postings parked (they break the ledger's rules: a bug or a hand edit). A parked posting stays in its
    queue, shown as queued, and its lane goes on past it: one bad posting never holds up a holder's others."""

    again: list[Delivered]
    parked: list[Delivered]


class DeferredPoster:
    """Applies deferred postings to their holders' chains, a stream batch at a time, exactly once
    (``ledger.deferred``): per holder, one read of the account and one conditional write of the batch's lines
    with the lanes' new marks; then the applied postings leave the queue."""

    def __init__(self, store: LedgerStore, clock: Clock, retry: RetryPolicy | None = None) -> None:
        self._store = store
        self._clock = clock
        self._retry = retry or RetryPolicy()

    def apply(self, delivered: Sequence[Delivered]) -> Applied:
        """Apply what a batch delivers, holder by holder."""
        by_holder: dict[str, list[Delivered]] = {}
        for item in delivered:
            by_holder.setdefault(item.deferred.posting.holder, []).append(item)
        again: list[Delivered] = []
        parked: list[Delivered] = []
        for holder, items in by_holder.items():
            try:
                bad = self._retry.run(lambda holder=holder, items=items: self._apply(holder, items))  # type: ignore[misc]
                done = [d.deferred for d in items if d not in bad]
                self._retry.run(lambda done=done: self._store.forget(done))  # type: ignore[misc]
            except Busy:
                again.extend(items)
                continue
            parked.extend(bad)
        return Applied(again, parked)

    def _apply(self, holder: str, items: list[Delivered]) -> list[Delivered]:
        """Post the holder's fresh postings in one write; the ones that cannot be posted are left out (parked)."""
        now = self._clock.now()
        account = self._store.accounts([holder])[holder]
        fresh, marks = unapplied(account.marks, items)
        if not fresh:
            return []  # delivered again: applied already
        batch_id = f"{fresh[0].deferred.lane}:{fresh[0].position}"
        good: list[Delivered] = fresh
        bad: list[Delivered] = []
        try:
            write = AccountWrite.posting(account, batched([d.deferred.posting for d in fresh], batch_id, now,
                                                                account.settled), now, self._store.expiry)
        except LedgerInvariantError:
            good, bad = _sort_out(account, fresh, now)
            write = AccountWrite.posting(account, batched([d.deferred.posting for d in good], batch_id, now,
                                                                    account.settled), now, self._store.expiry)
        self._store.commit(LedgerWrite(None, [replace(write, after=replace(write.after, marks=marks))]))
        return bad


def _sort_out(account: Account, fresh: list[Delivered], now: datetime) -> tuple[list[Delivered], list[Delivered]]:
    """The postings that can be posted one after another in lane order, and those that cannot."""
    good: list[Delivered] = []
    bad: list[Delivered] = []
    for item in fresh:
        try:
            account = post(account, batched([item.deferred.posting], "", now, account.settled), now).account
        except LedgerInvariantError:
            bad.append(item)
            continue
        good.append(item)
    return good, bad

"""Reading a holder's ledger page by page, verifying its chain against its account, and posting what other
events deferred to it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from loyalty.ledger.deferred import Delivered, batched, unapplied
from loyalty.ledger.entries import Entry
from loyalty.ledger.posting import LedgerInvariantError
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


class DeferredPoster:
    """Applies deferred postings to their holders' chains, a stream batch at a time, exactly once
    (``ledger.deferred``): per holder, one read of the account and one conditional write of the batch's lines
    with the lanes' new marks; then the applied postings leave the queue."""

    def __init__(self, store: LedgerStore, clock: Clock, retry: RetryPolicy | None = None) -> None:
        self._store = store
        self._clock = clock
        self._retry = retry or RetryPolicy()

    def apply(self, delivered: Sequence[Delivered]) -> list[Delivered]:
        """Apply what a batch delivers, holder by holder; the postings of holders that could not be written now
        (still contended after the retries) or ever (their lines break the ledger's rules: a bug or a hand edit,
        left for the dead-letter queue), for the stream to deliver again."""
        by_holder: dict[str, list[Delivered]] = {}
        for item in delivered:
            by_holder.setdefault(item.deferred.posting.holder, []).append(item)
        failed: list[Delivered] = []
        for holder, items in by_holder.items():
            try:
                self._retry.run(lambda holder=holder, items=items: self._apply(holder, items))  # type: ignore[misc]
                self._retry.run(lambda items=items: self._store.forget([d.deferred for d in items]))  # type: ignore[misc]
            except (Busy, LedgerInvariantError):
                failed.extend(items)
        return failed

    def _apply(self, holder: str, items: list[Delivered]) -> None:
        now = self._clock.now()
        account = self._store.accounts([holder])[holder]
        fresh, marks = unapplied(account.marks, items)
        if not fresh:
            return  # delivered again: applied already
        first = fresh[0]
        lines = batched([d.deferred.posting for d in fresh], f"{first.deferred.lane}:{first.position}", now)
        write = AccountWrite.posting(account, lines, now)
        self._store.commit(LedgerWrite(None, [replace(write, after=replace(write.after, marks=marks))]))

"""Reading a holder's ledger page by page, and verifying its chain against its account."""

from __future__ import annotations

from dataclasses import dataclass

from loyalty.ledger.entries import Entry
from loyalty.ledger.store import LedgerStore
from loyalty.ledger.verification import ChainReport, verify
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

"""Entries: the immutable lines of a holder's chain, and the hash that links them.

Every change to a balance is an ``Entry``. Entries are never updated or deleted; a correction is a new
entry. Each holder has one chain across all its assets: ``seq`` counts 1, 2, 3 … without gaps, and each
entry's ``hash`` covers its content and the previous entry's hash, so a deleted, edited, reordered or
inserted entry breaks the chain at exactly that point (docs/ledger.md).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

from loyalty.ledger.assets import Bucket, EntryKind
from loyalty.shared.canonical import canonical_json

GENESIS_HASH = "0" * 64
REVIEW_LOT = "review/"  # the lot of a credit held for review: ``review/<review_id>``, never freed by time


def lot_of(available_at: str | None, review: str | None) -> str | None:
    """The lot an entry (or a posting) of a held bucket moves: the instant its hold ends, or, for a credit held for
    review (docs/screening.md), the review's own lot, which only the review's decision empties."""
    return f"{REVIEW_LOT}{review}" if review is not None else available_at


def is_review_lot(lot: str) -> bool:
    return lot.startswith(REVIEW_LOT)


@dataclass(frozen=True)
class Source:
    """The business event an entry comes from, e.g. ``purchase``/the order id, ``release``/the instant a hold
    ended, ``adjustment``/the adjustment id."""

    type: str
    id: str


@dataclass(frozen=True)
class Entry:
    """One immutable line of a holder's ledger. ``holder`` is the chain's key: a member's id."""

    holder: str
    entry_id: str
    seq: int
    asset: str
    amount: int
    bucket: Bucket
    kind: EntryKind
    level: int | None
    source: Source
    rule_version: int | None
    created_at: str
    available_at: str | None
    prev_hash: str
    hash: str = ""
    # An entry that carries several business events' lines at once (the poster's batches, docs/ledger.md):
    # each event's source id and amount, in the order they were posted. None for every other entry.
    parts: tuple[tuple[str, int], ...] | None = None
    # A credit held for review, a reversal of it, and the decision's line that empties its lot: the review's id
    # (docs/screening.md). None for every other entry.
    review: str | None = None
    # An entry a rule of the earning programme made (docs/earning.md): the rule (``calendar:<name>``,
    # ``tier:<tier>``, ``status:<status>``, ``action:<action>``, ``surprise``) and, for a multiplied credit, its basis
    # points. None for every other entry.
    rule: str | None = None
    multiplier_bps: int | None = None
    # Points that arrive in a bucket that expires, dated by the programme's expiry rule, and the lots an ``expiry``
    # entry ends: (instant they expire, amount), oldest first (ledger.expiry). None for every other entry.
    expires: tuple[tuple[str, int], ...] | None = None

    @property
    def lot(self) -> str | None:
        return lot_of(self.available_at, self.review)

    def content(self) -> dict[str, Any]:
        """Every field but ``hash``, as JSON values: what the hash covers (``parts`` only where there are)."""
        content: dict[str, Any] = {
            "member_id": self.holder,
            "entry_id": self.entry_id,
            "seq": self.seq,
            "asset": self.asset,
            "amount": self.amount,
            "bucket": str(self.bucket),
            "kind": str(self.kind),
            "level": self.level,
            "source": {"type": self.source.type, "id": self.source.id},
            "rule_version": self.rule_version,
            "created_at": self.created_at,
            "available_at": self.available_at,
            "prev_hash": self.prev_hash,
        }
        if self.parts is not None:
            content["parts"] = [[source_id, amount] for source_id, amount in self.parts]
        if self.review is not None:
            content["review"] = self.review
        if self.rule is not None:
            content["rule"] = self.rule
        if self.multiplier_bps is not None:
            content["multiplier_bps"] = self.multiplier_bps
        if self.expires is not None:
            content["expires"] = [[at, amount] for at, amount in self.expires]
        return content

    def body(self) -> dict[str, Any]:
        """The entry as the API shows it: exactly what its hash covers, and the hash (docs/ledger.md)."""
        return {**self.content(), "hash": self.hash}

    def computed_hash(self) -> str:
        return hashlib.sha256(canonical_json(self.content())).hexdigest()

    def sealed(self) -> Entry:
        return replace(self, hash=self.computed_hash())

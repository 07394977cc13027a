"""Deferred postings: lines a business event commits for other holders, applied to their chains later, in batches.

A purchase credits the buyer at once and every other beneficiary (the referrers up the tree) through a queue:
its one transaction writes a ``Deferred`` per referrer, and the poster (``DeferredPoster``) applies them to
each referrer's chain, many at a time, so a referrer at the top of a busy subtree is written once per batch
rather than once per purchase (docs/hot-referrer.md).

- **Lanes.** A holder's queue is spread over ``spread`` lanes (partition keys ``<holder>#<lane>``), chosen
  from the event's own id, so no one key takes more than its share of a flash sale's writes. Everything an
  order queues for a holder (its credit, then its refunds' reversals) goes to the same lane, in the order
  it was committed, and the stream delivers a lane in that order.
- **Exactly once.** The poster keeps, in the holder's account, a mark per lane: the stream position of the
  last deferred posting it applied. A posting at or before the mark was applied already (a redelivered
  batch, a retry after a crash mid-batch) and is skipped; the mark moves in the same conditional write as
  the entries, so a batch is applied entirely or not at all, and at most once. Then the applied postings
  are deleted from the queue: what a holder's queue still holds is what is queued for them (a member read
  shows it as ``queued``). (Their sort keys cannot say it: one lane's sort keys need not follow the order
  the postings were committed in, which only the stream knows.)
- **Batches.** The postings a batch applies to one holder are grouped by what the contract's entry fields
  say (asset, kind, bucket, lot, level, rule version, sign); a group of one is posted as the event's own
  line (an entry just like the one a synchronous credit made), a larger group as one entry whose ``parts``
  list every event's source id and amount (the hash covers them; verification checks they add up).
- **Reversals** decide their bucket when they are applied: out of the credit's lot while its hold lasts,
  out of available once it has ended (``post`` has released it by then).
- **Reviews.** A credit held for review waits in the review's own lot until the review is decided
  (docs/screening.md); so do its reversals. A decision is written on the holder's chain at once and remembered in
  the account (``settled``), so what the queue still delivers for a decided review goes where the decision sent
  the rest: approved, to the hold's usual lot (or available); rejected, a credit is posted and reversed by the
  review in the same write, and a reversal is dropped (the rejection reversed everything that was left).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from loyalty.ledger.assets import Bucket
from loyalty.ledger.entries import Source
from loyalty.ledger.posting import Posting
from loyalty.shared.clock import parse_rfc3339

DEFAULT_SPREAD = 8  # the template's CreditSpread: a lane takes ~330 queued credits/s (puts and deletes)


def lane_of(event_id: str, spread: int) -> int:
    """The lane of a holder's queue an event's postings go to (stable for the event: its refunds follow it)."""
    return zlib.crc32(event_id.encode()) % max(1, spread)


@dataclass(frozen=True)
class Deferred:
    """One posting waiting in its holder's queue."""

    lane: int
    recorded_at: str  # when the event that queued it committed (RFC 3339)
    posting: Posting

    @property
    def key(self) -> str:
        return queue_key(self.posting.holder, self.lane)

    @property
    def sort_key(self) -> str:
        return f"{self.recorded_at}#{self.posting.source.type}/{self.posting.source.id}"


def queue_key(holder: str, lane: int) -> str:
    return f"{holder}#{lane}"


@dataclass(frozen=True)
class Delivered:
    """A deferred posting as the stream delivers it: with its position in the stream."""

    deferred: Deferred
    position: int


def unapplied(marks: Mapping[int, int], delivered: Iterable[Delivered]) -> tuple[list[Delivered], dict[int, int]]:
    """The delivered postings not yet applied (after their lane's mark), in delivery order, and the marks
    once they are."""
    fresh: list[Delivered] = []
    after = dict(marks)
    for item in delivered:
        lane = item.deferred.lane
        if lane in after and item.position <= after[lane]:
            continue
        fresh.append(item)
        after[lane] = item.position
    return fresh, after


APPROVED, REJECTED = "approved", "rejected"


def _as_applied(posting: Posting, now: datetime, settled: Mapping[str, str]) -> list[Posting]:
    """What a posting becomes when it is applied at ``now``: a reversal of a held credit whose hold has ended comes
    out of available (post released the lot); one that names a decided review goes where the decision sent the
    rest (above)."""
    if posting.review is not None:
        outcome = settled.get(posting.review)
        if outcome is None:
            return [posting]  # still under review: in (or out of) the review's lot
        if outcome == REJECTED:
            if posting.amount < 0:
                return []
            return [posting, replace(posting, amount=-posting.amount, source=Source("review", posting.review))]
        posting = replace(posting, review=None)
        if posting.bucket is Bucket.PENDING and posting.available_at is None:  # no hold: available at once
            return [replace(posting, bucket=Bucket.AVAILABLE)]
    if posting.amount < 0 and posting.bucket is Bucket.PENDING and posting.available_at is not None \
            and parse_rfc3339(posting.available_at) <= now:
        return [replace(posting, bucket=Bucket.AVAILABLE, available_at=None)]
    return [posting]


def batched(postings: Sequence[Posting], batch_id: str, now: datetime,
            settled: Mapping[str, str] | None = None) -> list[Posting]:
    """One holder's postings of a batch, grouped into the lines to post: what adds first, then what takes away,
    each in the order its groups first appear.

    A group is the postings that agree on every field an entry shows but the source; a group of one stays
    the event's own line, a larger one becomes a line of source ``batch``/``<batch_id>:<n>`` whose
    ``parts`` name each event and its amount. Credits go before reversals so that a lot a reversal takes
    from already holds everything the batch adds to it (a lane delivers a reversal after its credit, but
    one group can hold reversals of several credits of the same lot, credited in between).
    """
    groups: dict[tuple[object, ...], list[Posting]] = {}
    for posting in (q for p in postings for q in _as_applied(p, now, settled or {})):
        key = (posting.amount < 0, posting.holder, posting.asset, posting.kind, posting.bucket, posting.available_at,
               posting.level, posting.rule_version, posting.review, posting.source.type == "review")
        groups.setdefault(key, []).append(posting)
    lines = []
    ordered = [g for k, g in groups.items() if not k[0]] + [g for k, g in groups.items() if k[0]]
    for n, group in enumerate(ordered):
        if len(group) == 1:
            lines.append(group[0])
            continue
        parts = tuple((f"{p.source.type}/{p.source.id}", p.amount) for p in group)
        lines.append(replace(group[0], amount=sum(p.amount for p in group), source=Source("batch", f"{batch_id}:{n}"),
                             parts=parts))
    return lines

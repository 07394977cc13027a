"""Reviews: a credit held because its screening scored at or above the threshold, and the staff's decision.

A held credit (a referrer's points, a partner's commission) is queued like any other, but it goes to the
review's own lot of the asset's held bucket (``review/<review_id>``, ``ledger.entries``) instead of the hold's
lot: the holder sees it as pending, and no time frees it. The decision is one write on the holder's chain, named
``review/<review_id>``:

- **approve**: the lot's amount moves to the hold's usual lot (a ``release`` pair: out of the review's lot, into
  the lot the hold would have ended at), or straight to available when that time has passed: it matures as usual;
- **reject**: the lot's amount is reversed (an entry of the credit's own kind, negative, so it leaves
  ``lifetime_earned`` and the referral tallies as if it had never been credited).

What the lot holds at the decision is the credit less what refunds have reversed of it so far; the account
remembers the decision (``Account.settled``), so what the queue still delivers for the review (the credit itself,
if the decision came first; later refunds' reversals) follows it (``ledger.deferred``). A review left open
``review_days`` (14 by default) is approved by a schedule.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from loyalty.ledger.assets import EntryKind, asset
from loyalty.ledger.deferred import APPROVED, REJECTED
from loyalty.ledger.entries import Source
from loyalty.ledger.posting import Posting
from loyalty.screening.domain import Verdict
from loyalty.shared.clock import parse_rfc3339
from loyalty.shared.errors import LoyaltyError

OPEN = "open"
DECISIONS = (APPROVED, REJECTED)
DEFAULT_REVIEW_DAYS = 14
AUTO_APPROVER = "system:review-deadline"


class ReviewClosed(LoyaltyError):
    slug, status, title = "review-closed", 409, "The review is decided already"


def review_id_of(order_id: str, holder: str) -> str:
    """A review's id, from the purchase and the holder whose credit it holds (one review per credit)."""
    return "rv_" + hashlib.sha256(f"{order_id}\x00{holder}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Review:
    """A credit held for review. ``holder`` is whose credit (a member's id, or ``partner#<partner_id>``); ``amount``
    what the purchase credited; ``available_at`` when its hold would have ended (None: the programme has no hold)."""

    review_id: str
    holder: str
    buyer_id: str
    order_id: str
    asset: str
    amount: int
    level: int | None
    kind: str
    available_at: str | None
    rule_version: int | None
    verdict: Verdict
    created_at: str
    status: str = OPEN
    decided_at: str | None = None
    decided_by: str | None = None
    note: str | None = None


def decision_postings(review: Review, held: int, decision: str, now: datetime) -> list[Posting]:
    """The lines a decision writes on the holder's chain, given what the review's lot holds now (``held``)."""
    if held <= 0:
        return []
    declared = asset(review.asset)
    if declared.hold is None:
        raise ValueError(f"{review.asset} has no hold: nothing of it can be held for review")
    source = Source("review", review.review_id)
    if decision == REJECTED:
        return [Posting(review.holder, review.asset, -held, declared.hold.bucket, EntryKind(review.kind), source,
                        level=review.level, rule_version=review.rule_version, available_at=review.available_at,
                        review=review.review_id)]
    out = Posting(review.holder, review.asset, -held, declared.hold.bucket, EntryKind.RELEASE, source,
                  available_at=review.available_at, review=review.review_id)
    if review.available_at is not None and parse_rfc3339(review.available_at) > now:
        return [out, Posting(review.holder, review.asset, held, declared.hold.bucket, EntryKind.RELEASE, source,
                             available_at=review.available_at)]
    return [out, Posting(review.holder, review.asset, held, declared.hold.releases_to, EntryKind.RELEASE, source)]

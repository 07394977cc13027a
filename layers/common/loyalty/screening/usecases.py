"""Screening at sign-up and purchase, and deciding reviews (docs/screening.md).

- ``Screener.sign_up`` reads the index items of the new member's signals (normalised email, phone, device, card)
  and the count of sign-ups under the code that hour, and returns the verdict of every credit the member's
  purchases would make that scores at or above the threshold: per level of the tree (``"1"``, ``"2"``, …) and for
  the partner (``"partner"``). The member item keeps them, so a purchase reads nothing more to hold a credit.
  ``remember`` adds the member to its signals' index items once it is a member.
- ``Screener.purchase`` does the same for a purchase that sends a device or a card (one more read per signal).
- ``ReviewService`` lists reviews and writes decisions: the review's records and the holder's entries in one
  transaction, exactly once (the review must still be open; the account must be where it was read).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from loyalty.ledger.accounts import Account
from loyalty.ledger.deferred import APPROVED
from loyalty.ledger.entries import REVIEW_LOT
from loyalty.ledger.store import AccountWrite, LedgerStore, LedgerWrite, Record
from loyalty.screening.domain import PARTNER_KEY, Shared, Verdict, keyed, normalised_email, screen_shared
from loyalty.screening.review import (
    AUTO_APPROVER,
    DEFAULT_REVIEW_DAYS,
    OPEN,
    Review,
    ReviewClosed,
    decision_postings,
)
from loyalty.screening.store import ScreeningStore
from loyalty.shared.clock import Clock, parse_rfc3339, start_of_hour, to_rfc3339
from loyalty.shared.errors import NotFound
from loyalty.shared.once import Contention, OperationRecorded, RetryPolicy


class Screener:
    def __init__(self, store: ScreeningStore, key: Callable[[], bytes], clock: Clock) -> None:
        self._store = store
        self._key = key
        self._clock = clock

    def _keys(self, *, email: str | None = None, phone: str | None = None, device_id: str | None = None,
              card: str | None = None) -> dict[str, list[str]]:
        key = self._key()
        found = {"email": [keyed(key, "email", normalised_email(email))] if email else [],
                 "phone": [keyed(key, "phone", phone)] if phone else [],
                 "device": [keyed(key, "device", device_id)] if device_id else [],
                 "card": [keyed(key, "card", card)] if card else []}
        return {kind: values for kind, values in found.items() if values}

    def _verdicts(self, member_id: str, ancestors: Sequence[str], partner: str | None, keys: Mapping[str, list[str]],
                  sign_ups_that_hour: int = 1, partner_email: str | None = None) -> dict[str, Verdict]:
        shared = self._store.shared(keys) if keys else Shared()
        users = {kind: {m: t for m, t in found.items() if m != member_id} for kind, found in shared.users.items()}
        if partner is not None and partner_email and keys.get("email") \
                and keyed(self._key(), "email", normalised_email(partner_email)) in keys["email"]:
            users.setdefault("email", {})[partner] = ""
        shared = Shared(users)
        found: dict[str, Verdict] = {}
        for level, beneficiary in enumerate(ancestors, start=1):
            found[str(level)] = screen_shared(beneficiary, tuple(ancestors[level:]), shared, first_level=level == 1,
                                              sign_ups_that_hour=sign_ups_that_hour)
        if partner is not None:
            found[PARTNER_KEY] = screen_shared(partner, (), shared, first_level=True,
                                               sign_ups_that_hour=sign_ups_that_hour)
        return {k: v for k, v in found.items() if v.found}

    def sign_up(self, *, member_id: str, ancestors: Sequence[str], partner: str | None, code: str | None,
                email: str | None, phone: str | None, device_id: str | None, card: str | None,
                partner_email: str | None = None) -> dict[str, Verdict]:
        """The verdicts of the credits a new member's purchases will make, for every credit with a signal."""
        if not ancestors and partner is None:
            return {}
        # This sign-up counts in its hour: read here, counted by ``remember`` once the member is written (a refused
        # sign-up counts nothing).
        count = self._store.sign_ups(code, self._hour()) + 1 if code else 1
        return self._verdicts(member_id, ancestors, partner, self._keys(
            email=email, phone=phone, device_id=device_id, card=card), count, partner_email)

    def sign_up_verdicts(self, **kwargs: Any) -> dict[str, dict[str, int]]:
        """``sign_up``'s verdicts as the member item keeps them (``members.store.SignUpScreen``). Screening never
        stops a sign-up: if its reads fail, the member is screened as having shown nothing (logged)."""
        try:
            return {k: v.to_dict() for k, v in self.sign_up(**kwargs).items()}
        except Exception:  # advice for a person (docs/screening.md): a sign-up must not wait on it
            _unscreened("sign-up", kwargs.get("member_id"))
            return {}

    def _hour(self) -> str:
        return to_rfc3339(start_of_hour(self._clock.now()))

    def remember(self, *, member_id: str, tag: str, email: str | None = None, phone: str | None = None,
                 device_id: str | None = None, card: str | None = None, code: str | None = None) -> None:
        """Add the member to its signals' index items, and count its sign-up under ``code`` (after its sign-up or
        purchase is written). Never fails the request it follows, which has already been written: a failure here
        loses this member's signals from the index (logged), as a crash would."""
        try:
            if code:
                self._store.count_sign_up(code, self._hour())
            for kind, values in self._keys(email=email, phone=phone, device_id=device_id, card=card).items():
                for value in values:
                    self._store.note(kind, value, member_id, tag)
        except Exception:  # advice for a person, after the write that counts (docs/screening.md)
            _unscreened("remembering signals", member_id)

    def purchase(self, *, member_id: str, ancestors: Sequence[str], partner: str | None, device_id: str | None,
                 card: str | None) -> dict[str, Verdict]:
        """The verdicts the device and card a purchase sends add (nothing is read when it sends neither)."""
        if not (device_id or card) or (not ancestors and partner is None):
            return {}
        try:
            return self._verdicts(member_id, ancestors, partner, self._keys(device_id=device_id, card=card))
        except Exception:  # as at sign-up: a purchase must not wait on screening's reads
            _unscreened("purchase", member_id)
            return {}

    def opened(self, review: Review) -> list[Record]:
        """The records that open a review, for the purchase's transaction."""
        return self._store.opened(review)


def _unscreened(step: str, member_id: object) -> None:
    from loyalty.shared.observability import logger

    logger.warning("screening skipped", extra={"step": step, "member_id": member_id}, exc_info=True)


class ReviewService:
    def __init__(self, store: ScreeningStore, ledger: LedgerStore, clock: Clock, retry: RetryPolicy | None = None,
                 review_days: int = DEFAULT_REVIEW_DAYS) -> None:
        self._store = store
        self._ledger = ledger
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self.review_days = review_days

    def reviews(self, status: str, *, limit: int, cursor: str | None) -> tuple[list[Review], str | None]:
        return self._store.reviews(status, limit=limit, after=cursor)

    def review(self, review_id: str) -> Review:
        found = self._store.review(review_id)
        if found is None:
            raise NotFound(f"No review {review_id}.")
        return found

    def held(self, review: Review) -> int:
        """What the review's lot holds now."""
        return held_for(self._ledger.accounts([review.holder])[review.holder], review)

    def decide(self, review_id: str, decision: str, note: str | None, decided_by: str) -> Review:
        """Approve (the credit matures as usual) or reject (it is reversed), once: a decided review answers
        ``409 review-closed``."""

        def attempt() -> Review:
            review = self.review(review_id)
            if review.status != OPEN:
                raise ReviewClosed(f"Review {review_id} was {review.status} at {review.decided_at}.")
            now = self._clock.now()
            account = self._ledger.accounts([review.holder])[review.holder]
            held = held_for(account, review)
            write = AccountWrite.posting(account, decision_postings(review, held, decision, now), now,
                                         self._ledger.expiry)
            after = replace(write.after, settled={**account.settled, review_id: decision})
            decided = replace(review, status=decision, decided_at=to_rfc3339(now), decided_by=decided_by, note=note)
            try:
                self._ledger.commit(LedgerWrite(None, [replace(write, after=after)],
                                                records=self._store.decided(review, decided)))
            except (Contention, OperationRecorded):
                raise Contention(review_id) from None  # the review, or the holder's account, moved: read again
            return decided

        return self._retry.run(attempt)

    def next_deadline(self) -> datetime | None:
        """When the oldest open review reaches its deadline; None when none is open."""
        oldest, _ = self._store.reviews(OPEN, limit=1, after=None)
        return parse_rfc3339(oldest[0].created_at) + timedelta(days=self.review_days) if oldest else None

    def approve_overdue(self, limit: int = 100) -> list[Review]:
        """Approve the reviews left open ``review_days`` (the schedule's job); what it approved."""
        done = []
        for review in self._store.open_before(self._clock.now() - timedelta(days=self.review_days), limit):
            try:
                done.append(self.decide(review.review_id, APPROVED,
                                        f"Approved: open for {self.review_days} days.", AUTO_APPROVER))
            except ReviewClosed:
                continue  # decided by staff meanwhile
        return done


def held_for(account: Account, review: Review) -> int:
    """What a review's lot holds in the holder's account now."""
    return account.balance(review.asset).lots.get(f"{REVIEW_LOT}{review.review_id}", 0)

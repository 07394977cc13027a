"""Ledger use cases: purchases, refunds, redemptions, adjustments, reading and verifying.

Each write is one business event committed in one transaction (see ``usecases.once``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from loyalty.clock import Clock, to_rfc3339
from loyalty.errors import InsufficientPoints, NotFound, RefundExceedsPurchase, ValidationProblem
from loyalty.ledger import (
    Account,
    BalanceView,
    Bucket,
    ChainReport,
    Entry,
    Kind,
    LedgerInvariantError,
    Posting,
    Source,
    post,
    verify,
)
from loyalty.ports import AccountWrite, Contention, CounterGuard, LedgerWrite, Operation, Store
from loyalty.program import DEFAULT_PROGRAM
from loyalty.purchases import Credit, credit_posting, credit_purchase, reverse_refund
from loyalty.usecases.once import Outcome, RetryPolicy, fingerprint, run_once

# How far in the future a point-of-sale clock may be before a purchase time is refused.
MAX_CLOCK_SKEW = timedelta(minutes=5)


def balances_body(view: BalanceView) -> dict[str, Any]:
    return {"points": {"available": view.available, "pending": view.pending,
                       "lifetime_earned": view.lifetime_earned}}


def entry_body(entry: Entry) -> dict[str, Any]:
    """An entry as the API shows it: exactly what its hash covers, and the hash (docs/ledger.md)."""
    return {**entry.content(), "hash": entry.hash}


def _write(account: Account, postings: Sequence[Posting], now: datetime) -> AccountWrite:
    result = post(account, postings, now)
    return AccountWrite(account, result.account, result.entries)


@dataclass(frozen=True)
class LedgerPage:
    entries: list[Entry]
    has_more: bool


class LedgerService:
    def __init__(self, store: Store, clock: Clock, retry: RetryPolicy | None = None) -> None:
        self._store = store
        self._clock = clock
        self._retry = retry or RetryPolicy()

    # --- purchases and refunds -------------------------------------------------------------------

    def record_purchase(self, *, order_id: str, member_id: str, amount_minor: int, currency: str,
                        occurred_at: datetime, items: list[dict[str, Any]] | None, requested_by: str) -> Outcome:
        """Credit a purchase to the buyer and every ancestor the program reaches, exactly once."""
        key = f"purchase/{order_id}"
        occurred = to_rfc3339(occurred_at)
        request = {"member_id": member_id, "amount_minor": amount_minor, "currency": currency,
                   "occurred_at": occurred, "items": items}

        def attempt() -> Outcome:
            now = self._clock.now()
            if occurred_at > now + MAX_CLOCK_SKEW:
                raise ValidationProblem("occurred_at is in the future", loc=["body", "occurred_at"])
            snap = self._store.snapshot(members=[member_id], accounts=[member_id], program=True)
            buyer = snap.members.get(member_id)
            if buyer is None:
                raise NotFound(f"No member {member_id}.")
            rules = snap.program or DEFAULT_PROGRAM
            if currency != rules.currency:
                raise ValidationProblem(f"The program runs in {rules.currency}; this purchase is in {currency}.",
                                        loc=["body", "currency"])
            credits = credit_purchase(rules, member_id, buyer.path, amount_minor, now)
            accounts = dict(snap.accounts)
            ancestors = [c.member_id for c in credits if c.member_id not in accounts]
            if ancestors:
                accounts.update(self._store.snapshot(accounts=ancestors).accounts)
            body = {
                "order_id": order_id, "member_id": member_id, "amount_minor": amount_minor, "currency": currency,
                "occurred_at": occurred, "rule_version": rules.version,
                "credits": [{"member_id": c.member_id, "level": c.level, "points": c.points,
                             "bucket": str(c.bucket), "available_at": c.available_at} for c in credits],
            }
            state = {"member_id": member_id, "amount_minor": amount_minor, "refunded_minor": 0,
                     "credits": [c.to_dict() for c in credits], "items": items or [],
                     "occurred_at": occurred, "requested_by": requested_by}
            writes = [_write(accounts[c.member_id], [credit_posting(c, order_id)], now) for c in credits]
            self._store.commit(LedgerWrite(Operation(key, fingerprint(request), 201, body, to_rfc3339(now), state),
                                           writes))
            return Outcome(body)

        return run_once(self._store, self._retry, key, fingerprint(request), attempt)

    def record_refund(self, *, order_id: str, refund_id: str, amount_minor: int, requested_by: str) -> Outcome:
        """Reverse a share of every credit the order made, by the rules it was credited under."""
        key = f"refund/{order_id}/{refund_id}"
        request = {"order_id": order_id, "amount_minor": amount_minor}

        def attempt() -> Outcome:
            now = self._clock.now()
            purchase = self._store.operation(f"purchase/{order_id}")
            if purchase is None:
                raise NotFound(f"No purchase with order_id {order_id}.")
            total = int(purchase.state["amount_minor"])
            before = int(purchase.state["refunded_minor"])
            if before + amount_minor > total:
                raise RefundExceedsPurchase(
                    f"{before} of {total} is already refunded; {amount_minor} more would exceed the purchase.")
            credits = [Credit.from_dict(c) for c in purchase.state["credits"]]
            postings = reverse_refund(credits, total, before, amount_minor, order_id, refund_id, now)
            accounts = self._store.snapshot(accounts=[p.member_id for p in postings]).accounts
            try:
                writes = [_write(accounts[p.member_id], [p], now) for p in postings]
            except LedgerInvariantError:
                # The accounts are newer than the purchase record read above (a rival refund landed in
                # between): read both again. The commit's guard on refunded_minor would refuse it anyway.
                raise Contention(f"purchase/{order_id} changed while being read") from None
            body = {"refund_id": refund_id, "order_id": order_id, "amount_minor": amount_minor,
                    "reversals": [{"member_id": p.member_id, "level": p.level, "points": -p.amount}
                                  for p in postings]}
            op = Operation(key, fingerprint(request), 201, body, to_rfc3339(now),
                           {"order_id": order_id, "amount_minor": amount_minor, "requested_by": requested_by})
            self._store.commit(LedgerWrite(
                op, writes, counter=CounterGuard(purchase.key, "refunded_minor", before, before + amount_minor)))
            return Outcome(body)

        return run_once(self._store, self._retry, key, fingerprint(request), attempt)

    # --- spending and corrections ----------------------------------------------------------------

    def redeem(self, *, member_id: str, idempotency_key: str, points: int, reward: str) -> Outcome:
        """Spend available points. The write itself carries the condition that they are there."""
        key = f"redemption/{member_id}/{idempotency_key}"
        request = {"points": points, "reward": reward}
        redemption_id = "rdm_" + hashlib.sha256(key.encode()).hexdigest()[:24]

        def attempt() -> Outcome:
            now = self._clock.now()
            snap = self._store.snapshot(members=[member_id], accounts=[member_id])
            if member_id not in snap.members:
                raise NotFound("Sign up before redeeming points.")
            account = snap.accounts[member_id]
            available = account.view(now).available
            if available < points:
                raise InsufficientPoints(f"{points} points requested, {available} available.")
            spend = Posting(member_id, -points, Bucket.AVAILABLE, Kind.REDEMPTION, Source("redemption", redemption_id))
            result = post(account, [spend], now)
            body = {"redemption_id": redemption_id, "points": points, "reward": reward,
                    "balances": balances_body(result.account.view(now))}
            write = AccountWrite(account, result.account, result.entries, min_available=points - result.released)
            op = Operation(key, fingerprint(request), 201, body, to_rfc3339(now), {"member_id": member_id})
            self._store.commit(LedgerWrite(op, [write]))
            return Outcome(body)

        return run_once(self._store, self._retry, key, fingerprint(request), attempt)

    def adjust(self, *, adjustment_id: str, member_id: str, points: int, reason: str, requested_by: str) -> Outcome:
        """A correction by an admin: a new entry in ``available``, never an edit of an old one."""
        key = f"adjustment/{adjustment_id}"
        request = {"member_id": member_id, "points": points, "reason": reason}

        def attempt() -> Outcome:
            now = self._clock.now()
            snap = self._store.snapshot(members=[member_id], accounts=[member_id])
            if member_id not in snap.members:
                raise NotFound(f"No member {member_id}.")
            line = Posting(member_id, points, Bucket.AVAILABLE, Kind.ADJUSTMENT, Source("adjustment", adjustment_id))
            write = _write(snap.accounts[member_id], [line], now)
            body = entry_body(write.entries[-1])
            op = Operation(key, fingerprint(request), 201, body, to_rfc3339(now),
                           {"member_id": member_id, "reason": reason, "requested_by": requested_by})
            self._store.commit(LedgerWrite(op, [write]))
            return Outcome(body)

        return run_once(self._store, self._retry, key, fingerprint(request), attempt)

    # --- reading ---------------------------------------------------------------------------------

    def page(self, member_id: str, *, limit: int, before_seq: int | None) -> LedgerPage:
        entries, more = self._retry.run(
            lambda: self._store.entries_page(member_id, limit=limit, before_seq=before_seq))
        return LedgerPage(entries, more)

    def verify_member(self, member_id: str) -> ChainReport:
        """Recompute the member's chain and sums from the entries, against a stable account head."""

        def attempt() -> ChainReport:
            snap = self._store.snapshot(members=[member_id], accounts=[member_id])
            if member_id not in snap.members:
                raise NotFound(f"No member {member_id}.")
            before = snap.accounts[member_id]
            entries = list(self._store.entries(member_id))
            after = self._store.snapshot(accounts=[member_id]).accounts[member_id]
            if after.seq != before.seq:  # a write landed while reading: read again
                raise Contention(member_id)
            return verify(after, entries)

        report: ChainReport = self._retry.run(attempt)
        return report

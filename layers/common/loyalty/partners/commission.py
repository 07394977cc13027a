"""A partner's commission: its chain on the ledger, its balance, and paying it out.

Commissions are credited by purchases (``purchases.domain.credit_purchase``: a buyer bound to a partner at
sign-up earns it ``floor(amount × commission_bps / 10000)`` within the attribution window), queued like a
referrer's points and posted by the poster to the partner's chain (holder ``partner#<partner_id>``), held for the
programme's hold, reversed pro rata by refunds. Here: reading that chain and its balance, and payouts, which take
from ``available`` only, never more than it holds, settled by the write's own condition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from loyalty.ledger.accounts import Account, BalanceView
from loyalty.ledger.assets import COMMISSION, Bucket, EntryKind
from loyalty.ledger.entries import Source
from loyalty.ledger.posting import Posting, post
from loyalty.ledger.store import AccountWrite, LedgerStore, LedgerWrite
from loyalty.members.domain import partner_holder
from loyalty.shared.clock import Clock, to_rfc3339
from loyalty.shared.errors import LoyaltyError, NotFound
from loyalty.shared.once import Operation, Outcome, ResultCodec, RetryPolicy, fingerprint, run_once


class InsufficientCommission(LoyaltyError):
    slug, status, title = "insufficient-commission", 409, "Not enough commission available"


@dataclass(frozen=True)
class PayoutRecorded:
    payout_id: str
    partner_id: str
    amount_minor: int
    available_minor: int  # what is left available after it


PAYOUTS = ResultCodec(PayoutRecorded)


def payout_key(partner_id: str, payout_id: str) -> str:
    return f"payout/{partner_id}/{payout_id}"


class CommissionService:
    """A partner's commission chain: balance, entries (through ``LedgerService``), payouts."""

    def __init__(self, ledger: LedgerStore, clock: Clock, partner_exists: Callable[[str], bool],
                 retry: RetryPolicy | None = None,
                 queued: Callable[[Account], Mapping[str, int]] | None = None) -> None:
        self._ledger = ledger
        self._clock = clock
        self._exists = partner_exists
        self._retry = retry or RetryPolicy()
        self._queued = queued

    def holder(self, partner_id: str) -> str:
        """The partner's chain; ``NotFound`` for a partner that does not exist."""
        if not self._retry.run(lambda: self._exists(partner_id)):
            raise NotFound(f"No partner {partner_id}.")
        return partner_holder(partner_id)

    def balance(self, partner_id: str) -> BalanceView:
        """The partner's commission now (held amounts whose hold has ended count as available), with what the
        poster has still to post (``queued``)."""
        holder = self.holder(partner_id)
        account = self._retry.run(lambda: self._ledger.accounts([holder])[holder])
        view = account.view(COMMISSION.name, self._clock.now())
        if self._queued is not None:
            look_up = self._queued
            view = replace(view, queued=self._retry.run(lambda: look_up(account)).get(COMMISSION.name, 0))
        return view

    def pay_out(self, *, partner_id: str, payout_id: str, amount_minor: int,
                requested_by: str) -> Outcome[PayoutRecorded]:
        """Pay ``amount_minor`` of the partner's available commission, exactly once per ``payout_id``: a
        ``payout`` entry; more than is available → ``InsufficientCommission`` and nothing written."""
        key = payout_key(partner_id, payout_id)
        request = {"amount_minor": amount_minor}

        def attempt() -> PayoutRecorded:
            holder = self.holder(partner_id)
            now = self._clock.now()
            account = self._ledger.accounts([holder])[holder]
            available = account.available(COMMISSION.name, now)
            if amount_minor > available:
                raise InsufficientCommission(f"{amount_minor} requested, {available} available.")
            line = Posting(holder, COMMISSION.name, -amount_minor, Bucket.AVAILABLE, EntryKind.PAYOUT,
                           Source("payout", f"{partner_id}/{payout_id}"))
            result = post(account, [line], now)
            paid = PayoutRecorded(payout_id, partner_id, amount_minor,
                                  result.account.available(COMMISSION.name, now))
            # The stored available, before this write's own release, must still cover the payout.
            least = amount_minor - result.released.get(COMMISSION.name, 0)
            write = AccountWrite(account, result.account, result.entries,
                                 at_least={(COMMISSION.name, Bucket.AVAILABLE): least})
            op = Operation(key, fingerprint(request), 201, PAYOUTS.dump(paid), to_rfc3339(now),
                           {"partner_id": partner_id, "requested_by": requested_by})
            self._ledger.commit(LedgerWrite(op, [write]))
            return paid

        return run_once(self._ledger, self._retry, key, fingerprint(request), attempt, PAYOUTS)

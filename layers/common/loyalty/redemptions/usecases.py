"""Spending available points. The write itself carries the condition that they are there."""

from __future__ import annotations

from collections.abc import Callable

from loyalty.ledger.assets import POINTS, Bucket, EntryKind
from loyalty.ledger.entries import Source
from loyalty.ledger.posting import Posting, post
from loyalty.ledger.store import AccountWrite, LedgerStore, LedgerWrite
from loyalty.members.domain import Member
from loyalty.members.store import MemberStore
from loyalty.redemptions.domain import InsufficientPoints, Redeemed, redemption_id, redemption_key
from loyalty.shared.clock import Clock, to_rfc3339
from loyalty.shared.errors import NotFound
from loyalty.shared.once import Operation, Outcome, ResultCodec, RetryPolicy, fingerprint, run_once

REDEMPTIONS = ResultCodec(Redeemed)
# Raises unless the text is the member's current member code (``counter.usecases.CounterService.check_present``).
PresenceCheck = Callable[[Member, str], None]


class RedemptionService:
    def __init__(self, members: MemberStore, ledger: LedgerStore, clock: Clock,
                 retry: RetryPolicy | None = None, present: PresenceCheck | None = None) -> None:
        self._present = present
        self._members = members
        self._ledger = ledger
        self._clock = clock
        self._retry = retry or RetryPolicy()

    def redeem(self, *, member_id: str, idempotency_key: str, points: int, reward: str,
               member_code: str | None = None, by: str | None = None) -> Outcome[Redeemed]:
        """Spend ``points`` of the member's available points on ``reward``, exactly once per key.

        At the counter, staff (``by``) send the member's ``member_code``: unless it is the member's current one,
        ``MemberCodeInvalid`` and nothing is written. The code is proof, not part of the request: a retry with
        the same key and body gets the first answer whatever code it carries."""
        key = redemption_key(member_id, idempotency_key)
        request = {"points": points, "reward": reward}
        spent_as = redemption_id(key)

        def attempt() -> Redeemed:
            now = self._clock.now()
            members, accounts = self._members.members_with_accounts([member_id])
            if member_id not in members:
                raise NotFound("Sign up before redeeming points." if by is None else f"No member {member_id}.")
            if member_code is not None:
                self._check_present(members[member_id], member_code)
            account = accounts[member_id]
            available = account.available(POINTS.name, now)
            if available < points:
                raise InsufficientPoints(f"{points} points requested, {available} available.")
            spend = Posting(member_id, POINTS.name, -points, Bucket.AVAILABLE, EntryKind.REDEMPTION,
                            Source("redemption", spent_as))
            result = post(account, [spend], now)
            redeemed = Redeemed(spent_as, points, reward, {POINTS.name: result.account.view(POINTS.name, now)})
            # Stored available, before this write's own release, must still cover the spend.
            least = points - result.released.get(POINTS.name, 0)
            write = AccountWrite(account, result.account, result.entries,
                                 at_least={(POINTS.name, Bucket.AVAILABLE): least})
            op = Operation(key, fingerprint(request), 201, REDEMPTIONS.dump(redeemed), to_rfc3339(now),
                           {"member_id": member_id, **({"by": by} if by is not None else {})})
            self._ledger.commit(LedgerWrite(op, [write]))
            return redeemed

        return run_once(self._ledger, self._retry, key, fingerprint(request), attempt, REDEMPTIONS)

    def _check_present(self, member: Member, member_code: str) -> None:
        if self._present is None:
            raise AssertionError("redemptions at the counter need the member-code check (wiring)")
        self._present(member, member_code)
